"""Helpers the tests share: workflow builders (``wfbuild``), a fake LLM server, a file keyring.

Imported as ``support.<module>``: the test folders have no ``__init__`` files, and pytest puts
``tests/`` (the folder of the root ``conftest.py``) on ``sys.path``; a flowdesk process a test
starts gets it through ``PYTHONPATH``.
"""

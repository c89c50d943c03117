"""Test-only fault injection that reaches a batch's spawned workers.

A batch builds reports in spawned processes, where a test's monkeypatch does
not reach. A test puts this folder on ``PYTHONPATH`` and names territories in
``ABS_REPORT_TEST_FAIL_CODES``: every Python process then starts with
:func:`abs_report.pipeline.build_report` patched to fail for them. Nothing of
this ships in the product.
"""

import os

_CODES = {c for c in os.environ.get("ABS_REPORT_TEST_FAIL_CODES", "").split(",") if c}

if _CODES:
    import abs_report.pipeline as _pipeline

    _original = _pipeline.build_report

    def _failing_build_report(prepared, scratch, **options):
        code = prepared.params.territory.code
        if code in _CODES:
            raise RuntimeError(f"échec provoqué pour le test ({code})")
        return _original(prepared, scratch, **options)

    _pipeline.build_report = _failing_build_report

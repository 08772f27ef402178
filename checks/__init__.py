"""The checks. Adding one is a module with a registered pure function and one import line here."""

from clausewatch.checks import backup_freshness, mfa_coverage, patch_lag, restore_test  # noqa: F401
from clausewatch.checks.registry import CHECKS, CheckSpec
from clausewatch.core.result import Result, Status, Verdict

__all__ = ["CHECKS", "CheckSpec", "Result", "Status", "Verdict"]

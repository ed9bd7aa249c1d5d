"""Judges: quantify how an edit changed aesthetics. Created by name with :func:`create_judge`."""

from redaes.judges.base import JUDGES, Judge, JudgeResult, PairContext, create_judge

__all__ = ["JUDGES", "Judge", "JudgeResult", "PairContext", "create_judge"]

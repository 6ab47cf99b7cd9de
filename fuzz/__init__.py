"""Fuzzing harness of spvlink (issue 11): mutators, pipeline and oracles, workers with
memory and time limits, reduction, campaigns. See docs/FUZZING.md."""

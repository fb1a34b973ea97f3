"""Test support for costline: generated stacks of any size (:mod:`costline.testing.stacks`).

The engine harness that drives a policy pack lives in :mod:`costline.engine`.
"""

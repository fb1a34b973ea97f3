"""Scenarios: the estimator re-run on modified copies of the stack.

``edit`` (modified copies of resources), ``whatif`` (cost at other traffic volumes),
``worst_case`` (every request runs to the timeout), ``recommendations`` (changes with the dollars
each saves).
"""

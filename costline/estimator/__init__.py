"""The estimator: resources and a price book in, a monthly :class:`~costline.core.model.Estimate`
out.

``pipeline`` (:func:`~costline.estimator.pipeline.estimate` and its options), ``billing``
(account-wide free tiers and volume tiers, split back per resource). Imports core, usage,
pricing and pricers; nothing above it.
"""

"""The core's building blocks, imported by every other part and importing none of them.

``model`` (resources in, an estimate out), ``money`` (exact Decimal dollars), ``values`` (how the
Pulumi engine encodes property values: unknowns, secrets, and which values came from a secret),
``text`` (untrusted text made safe), ``paths`` (where bundled data lives), ``files`` (atomic file
writes), ``exports`` (names a package loads on first use).
"""

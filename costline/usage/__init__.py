"""Usage: how much a resource will be used, read from its ``cost:*`` tags and the stack's graph.

``tags`` (the usage-tag contract and its reader), ``traffic`` (usage declared at the edge flowing
to the resources it reaches), ``s3_lifecycle`` (the storage-class mix a lifecycle rule implies),
``infracost_file`` (Infracost usage files as ``cost:*`` tags). Imports only :mod:`costline.core`.
"""

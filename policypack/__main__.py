"""costline policy pack entry point: the engine runs `python -m pulumi.policy <engine> <this dir>`.

All logic lives in the installed `costline` package (costline.policy.pack); this file only
starts the pack, so the policy pack and the `costline` CLI never hold two copies of pricing.
"""

from costline.policy.pack import serve

serve()

"""The AWS Budgets recommendation: an alarm for stacks that declare no budget.

An estimate is only as good as its usage tags; a budget with notifications catches a traffic
spike or a runaway loop within a day instead of at the invoice. Offered when the stack has no
``aws:budgets/budget:Budget``. It has no dollar figure and is listed last.
"""

from __future__ import annotations

from costline.core.money import format_usd
from costline.estimator.priced import PricedStack
from costline.scenarios.recommendations.common import Recommendation

BUDGET_TYPE = "aws:budgets/budget:Budget"
BUDGETS_CODE = "aws-budgets-alarm"
BUDGETS_LINK = "https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-create.html"


def budgets_alarm(ctx: PricedStack) -> list[Recommendation]:
    if any(r.type == BUDGET_TYPE for r in ctx.resources):
        return []
    return [
        Recommendation(
            BUDGETS_CODE,
            "Set an AWS Budgets alarm",
            "The stack declares no aws.budgets.Budget. Add a monthly COST budget at about the "
            f"estimate ({format_usd(ctx.estimate.total_monthly_usd)}) with notifications at 80% "
            "(forecasted) and 100% (actual), so a traffic spike or a runaway loop shows up within "
            "a day rather than on the invoice.",
            link=BUDGETS_LINK,
        )
    ]

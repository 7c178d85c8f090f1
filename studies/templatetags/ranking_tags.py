"""`{% ranking_panel_data stage as ranking %}`: lets any page include the ranking panel with
only `stage` in its context (templates/studies/ranking/_panel.html does this itself)."""

from django import template

from synthesis.permissions import Action, can

register = template.Library()


@register.simple_tag(takes_context=True)
def ranking_panel_data(context, stage):
    from studies.services.ranking import ranking_panel_context

    data = ranking_panel_context(stage)
    request = context.get("request")
    user = getattr(request, "user", None)
    review = context.get("review")
    role = getattr(review, "user_role", None) if review is not None else None
    data["can_train"] = can(user, stage.review_id, Action.SCREEN, role=role)
    data["can_manage"] = can(user, stage.review_id, Action.MANAGE, role=role)
    return data


@register.filter
def percent(value, digits=0):
    if value is None:
        return "—"
    return f"{float(value) * 100:.{int(digits)}f} %"

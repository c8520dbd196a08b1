"""Review operations: the queue of role-play attempts, trainers' overrides of automatic verdicts, flags,
and the agreement report (how often trainers keep each rubric rule's automatic verdict).

An override never edits the automatic grade: it is an ItemOverride row (reviewer, when, item, before,
after, comment), and the attempt's score and pass/fail are recomputed from the automatic items with the
latest override of each item applied, by app.roleplays.operations.apply_overrides.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from grading.localize import pick

from ..accounts.models import User

from ..core.clock import utcnow
from ..core import events
from ..core.errors import UserError
from ..extensions import db
from ..roleplays import errors as roleplay_errors
from ..roleplays import grader as roleplay_grader
from ..roleplays import operations as roleplay_operations
from ..roleplays import presenters as roleplay_presenters
from ..roleplays import queries as roleplay_queries
from ..roleplays.models import ENDED, GRADED, GRADING, PENDING, RECEIVED, TURN_PENDING, Attempt, Turn
from ..roleplays.scenario import ScenarioDoc
from .models import ItemOverride, Review, ReviewFlag

NEWEST, PENDING_GRADING, FAILED, FLAGGED, UNREVIEWED = "newest", "pending", "failed", "flagged", "unreviewed"
FILTERS = (NEWEST, PENDING_GRADING, FAILED, FLAGGED, UNREVIEWED)
FILTER_LABELS = {NEWEST: _l("Newest"), PENDING_GRADING: _l("Pending grading"), FAILED: _l("Failed"),
                 FLAGGED: _l("Flagged"), UNREVIEWED: _l("Not reviewed")}
PAGE_SIZE = 30
MAX_COMMENT = 2000
MAX_REASON = 500
EPSILON = 1e-9
WAITING_TURN = (RECEIVED, TURN_PENDING, GRADING)

Key = tuple[int | None, str]  # (turn id, or None for a call-level item; item id)


class ReviewError(UserError):
    """A user-facing refusal; str() is a translated message."""

    code = "review_invalid"
    status = 400


# --- the queue ------------------------------------------------------------------------------------

def _waiting_ids():
    return select(Turn.attempt_id).where(Turn.status.in_(WAITING_TURN))


def _open_flag_ids():
    return select(ReviewFlag.attempt_id).where(ReviewFlag.resolved_at.is_(None))


def _filter_condition(name: str):
    # Trainers' practice calls are nobody's record: never in the queue.
    return and_(Attempt.practice.is_(False), _queue_condition(name))


def _queue_condition(name: str):
    if name == PENDING_GRADING:
        return Attempt.id.in_(_waiting_ids())
    if name == FAILED:
        return and_(Attempt.status == ENDED, Attempt.passed.is_(False))
    if name == FLAGGED:
        return Attempt.id.in_(_open_flag_ids())
    if name == UNREVIEWED:
        return and_(Attempt.status == ENDED, Attempt.id.not_in(select(Review.attempt_id)))
    # Newest: anything with something to look at (not calls still ringing or in progress with no reply).
    return or_(Attempt.status.in_((ENDED, PENDING)), Attempt.id.in_(_waiting_ids()),
               and_(Attempt.abandoned_condition(), Attempt.id.in_(select(Turn.attempt_id))))  # idle calls too


@dataclass
class QueueRow:
    attempt: Attempt
    learner: User
    title: str
    pending: bool         # has replies waiting for grading
    open_flags: int
    reviewed: bool
    overrides: int


@dataclass
class QueuePage:
    filter: str
    page: int
    rows: list[QueueRow]
    has_more: bool
    counts: dict[str, int]


def queue(name: str = NEWEST, page: int = 1, language: str = "zh-CN") -> QueuePage:
    name = name if name in FILTERS else NEWEST
    page = max(1, page)
    results = db.session.execute(
        select(Attempt, User).join(User, User.id == Attempt.user_id).where(_filter_condition(name))
        .order_by(Attempt.started_at.desc(), Attempt.id.desc())
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    has_more = len(results) > PAGE_SIZE
    results = results[:PAGE_SIZE]
    ids = [attempt.id for attempt, _user in results]
    waiting = set(db.session.scalars(_waiting_ids().where(Turn.attempt_id.in_(ids)))) if ids else set()
    flags = dict(db.session.execute(
        select(ReviewFlag.attempt_id, func.count()).where(ReviewFlag.attempt_id.in_(ids),
                                                          ReviewFlag.resolved_at.is_(None))
        .group_by(ReviewFlag.attempt_id)).all()) if ids else {}
    reviewed = set(db.session.scalars(select(Review.attempt_id).where(Review.attempt_id.in_(ids)))) if ids else set()
    overrides: dict[int, int] = defaultdict(int)
    for key in _effective(ids):
        overrides[key[0]] += 1
    rows = [QueueRow(attempt, user, ScenarioDoc(attempt.version.spec).text("title", language),
                     attempt.id in waiting, flags.get(attempt.id, 0), attempt.id in reviewed,
                     overrides.get(attempt.id, 0))
            for attempt, user in results]
    counts = {other: db.session.scalar(select(func.count()).select_from(Attempt).where(_filter_condition(other)))
              for other in (PENDING_GRADING, FLAGGED)}
    return QueuePage(name, page, rows, has_more, counts)


def grade_now(attempt_id: int) -> Attempt | None:
    """Grade the attempt's waiting replies now (app.roleplays.grader.regrade_attempt).

    Raises app.roleplays.errors.GradingFailed when a reply still cannot be graded.
    """
    return roleplay_grader.regrade_attempt(attempt_id)


# --- overrides --------------------------------------------------------------------------------------

def _effective(attempt_ids) -> dict[tuple[int, int | None, str], ItemOverride]:
    """The override in effect per (attempt, turn, item): the latest one."""
    attempt_ids = list(attempt_ids)
    if not attempt_ids:
        return {}
    rows = db.session.scalars(select(ItemOverride).where(ItemOverride.attempt_id.in_(attempt_ids))
                              .order_by(ItemOverride.created_at, ItemOverride.id))
    return {(row.attempt_id, row.turn_id, row.item_id): row for row in rows}


def effective_overrides(attempt_id: int) -> dict[Key, ItemOverride]:
    return {(turn_id, item_id): row for (_a, turn_id, item_id), row in _effective([attempt_id]).items()}


def override_points(attempt_id: int) -> dict[Key, float]:
    """{(turn id or None, item id): points} of the overrides in effect (roleplays shows items with them)."""
    return {key: row.points_after for key, row in effective_overrides(attempt_id).items()}


def item_range(doc: ScenarioDoc, node_id: str | None, item: dict) -> tuple[float, float]:
    """The points a trainer may award: an intent 0..its points, a forbidden item -its points..0."""
    if item.get("kind") == "forbidden":
        rubric = doc.nodes[node_id].rubric if node_id in doc.nodes else ()
        worth = next((float(r.points) for r in rubric if r.id == item["item_id"] and r.kind == "forbidden"),
                     abs(float(item["points_awarded"])))
        return -worth, 0.0
    return 0.0, float(item["points_possible"])


def _items_of(attempt: Attempt):
    """Every gradable item of a finished attempt: (turn or None, raw item dict)."""
    for turn in attempt.turns:
        if turn.status != GRADED:
            continue
        for item in list(turn.items or []) + list(turn.delivery or []):
            yield turn, item
    for item in attempt.call_items or []:
        yield None, item


def _find_item(attempt: Attempt, turn_id: int | None, item_id: str):
    for turn, item in _items_of(attempt):
        if (turn.id if turn is not None else None) == turn_id and item["item_id"] == item_id:
            return turn, item
    return None, None


def _ensure_review(attempt_id: int, reviewer: User) -> None:
    exists = db.session.scalar(select(Review.id).where(Review.attempt_id == attempt_id,
                                                       Review.reviewer_id == reviewer.id).limit(1))
    if exists is None:
        db.session.add(Review(attempt_id=attempt_id, reviewer_id=reviewer.id, created_at=utcnow()))


def require_not_own(attempt: Attempt, reviewer: User) -> None:
    """Separation of duties: a trainer who is also a learner never reviews their own call."""
    if attempt.user_id == reviewer.id:
        raise ReviewError(_l("This is your own call: another trainer has to review it."), code="own_call",
                          status=403)


def _finished(attempt_id: int) -> Attempt:
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        raise ReviewError(_l("There is no such call."), code="call_not_found", status=404)
    if attempt.status != ENDED:
        raise ReviewError(_l("Only a finished call can be reviewed."), code="call_not_finished", status=409)
    return attempt


def override_item(attempt_id: int, turn_id: int | None, item_id: str, points: float, comment: str,
                  reviewer: User) -> ItemOverride:
    """Set one item's points with a required comment; the attempt is re-scored and certification told."""
    attempt = _finished(attempt_id)
    require_not_own(attempt, reviewer)
    comment = (comment or "").strip()
    if not comment:
        raise ReviewError(_l("A comment is required: say why the automatic verdict is wrong."))
    if len(comment) > MAX_COMMENT:
        raise ReviewError(_l("The comment is too long."))
    turn, item = _find_item(attempt, turn_id, item_id)
    if item is None:
        raise ReviewError(_l("There is no such item in this call."))
    low, high = item_range(roleplay_queries.doc_of(attempt), turn.node_id if turn else None, item)
    points = float(points)
    if not low - EPSILON <= points <= high + EPSILON:
        low_text, high_text = "%g" % low, "%g" % high
        raise ReviewError(_l("The points for this item must be between %(low)s and %(high)s.",
                             low=low_text, high=high_text))
    effective = effective_overrides(attempt_id)
    key = (turn_id, item_id)
    automatic = float(item["points_awarded"])
    before = effective[key].points_after if key in effective else automatic
    if abs(points - before) < EPSILON:
        raise ReviewError(_l("The item already has these points."))
    row = ItemOverride(attempt_id=attempt_id, turn_id=turn_id, item_id=item_id, rule=str(item["rule"])[:127],
                       kind=item.get("kind", "intent"), automatic=automatic, points_before=before,
                       points_after=points, comment=comment, reviewer_id=reviewer.id, created_at=utcnow())
    db.session.add(row)
    _ensure_review(attempt_id, reviewer)
    wanted = {k: r.points_after for k, r in effective.items()}
    wanted[key] = points
    try:
        roleplay_operations.apply_overrides(attempt_id, wanted)  # commits the override with the new score
    except roleplay_errors.RoleplayError as exc:
        db.session.rollback()
        raise ReviewError(_l("The override could not be applied.")) from exc
    return row


def mark_reviewed(attempt_id: int, reviewer: User, comment: str | None = None) -> None:
    """The trainer checked the automatic grade (what they did not override they agree with), with an
    optional overall comment the trainee reads on the report; the call's open flags are resolved."""
    attempt = _finished(attempt_id)
    require_not_own(attempt, reviewer)
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > MAX_COMMENT:
        raise ReviewError(_l("The comment is too long."))
    db.session.add(Review(attempt_id=attempt_id, reviewer_id=reviewer.id, created_at=utcnow(), comment=comment))
    _resolve_open_flags(attempt_id, reviewer)
    # The learner is told (app.notifications), with what this trainer wrote on the call's items.
    comments = db.session.scalars(select(ItemOverride.comment).where(
        ItemOverride.attempt_id == attempt_id, ItemOverride.reviewer_id == reviewer.id)
        .order_by(ItemOverride.created_at, ItemOverride.id)).all()
    if comment:
        comments = [comment, *comments]
    events.review_completed.send(attempt.user_id, attempt_id=attempt_id, reviewer_id=reviewer.id,
                                 reviewer_name=reviewer.name, scenario=attempt.version.title,
                                 comment="\n".join(comments) or None)
    db.session.commit()


def override_log(attempt_id: int) -> list[ItemOverride]:
    return list(db.session.scalars(select(ItemOverride).where(ItemOverride.attempt_id == attempt_id)
                                   .order_by(ItemOverride.created_at.desc(), ItemOverride.id.desc())))


def reviews_of(attempt_id: int) -> list[Review]:
    return list(db.session.scalars(select(Review).where(Review.attempt_id == attempt_id)
                                   .order_by(Review.created_at.desc(), Review.id.desc())))


# --- flags ------------------------------------------------------------------------------------------

def flags_of(attempt_id: int, *, open_only: bool = False) -> list[ReviewFlag]:
    query = select(ReviewFlag).where(ReviewFlag.attempt_id == attempt_id)
    if open_only:
        query = query.where(ReviewFlag.resolved_at.is_(None))
    return list(db.session.scalars(query.order_by(ReviewFlag.created_at.desc(), ReviewFlag.id.desc())))


def flag(attempt: Attempt, user: User, reason: str | None = None) -> ReviewFlag | None:
    """Ask for a trainer's review; None when this person already has an open flag on the call."""
    reason = (reason or "").strip()[:MAX_REASON] or None
    if open_flag_of(attempt.id, user.id) is not None:
        return None
    row = ReviewFlag(attempt_id=attempt.id, flagged_by=user.id, reason=reason, created_at=utcnow())
    db.session.add(row)
    events.call_flagged.send(attempt.user_id, attempt_id=attempt.id, flagged_by=user.id, reason=reason,
                             scenario=attempt.version.title)
    db.session.commit()
    return row


def open_flag_of(attempt_id: int, user_id: int) -> ReviewFlag | None:
    """This person's open flag on the call, if any."""
    return db.session.scalar(select(ReviewFlag).where(ReviewFlag.attempt_id == attempt_id,
                                                      ReviewFlag.flagged_by == user_id,
                                                      ReviewFlag.resolved_at.is_(None)).limit(1))


def _resolve_open_flags(attempt_id: int, user: User) -> None:
    now = utcnow()
    for row in flags_of(attempt_id, open_only=True):
        row.resolved_at, row.resolved_by = now, user.id


def resolve_flag(row: ReviewFlag, user: User) -> None:
    if row.resolved_at is None:
        row.resolved_at, row.resolved_by = utcnow(), user.id
        db.session.commit()


# --- pages ------------------------------------------------------------------------------------------

def review_page(attempt_id: int, language: str) -> dict | None:
    """The after-call report (app.roleplays.presenters.attempt_report) with, per item, the override in effect
    and the range a trainer may award."""
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        return None
    report = roleplay_presenters.attempt_report(attempt_id, language)
    doc = roleplay_queries.doc_of(attempt)
    effective = effective_overrides(attempt_id)
    raw = {(turn.id if turn else None, item["item_id"]): item for turn, item in _items_of(attempt)}

    def annotate(items, turn_id, node_id):
        for item in items:
            key = (turn_id, item["item_id"])
            item["turn_id"] = turn_id
            item["reviewable"] = key in raw and attempt.status == ENDED
            item["low"], item["high"] = item_range(doc, node_id, raw.get(key, item))
            item["override"] = effective.get(key)
            # The report already shows the item as the override left it (verdict, judgement, tips).
            item["automatic"] = float(raw[key]["points_awarded"]) if key in raw else item["points_awarded"]
            item["current"] = item["points_awarded"]

    for turn in report["turns"]:
        annotate(turn["items"], turn["id"], turn["node_id"])
        annotate(turn["delivery"], turn["id"], turn["node_id"])
    annotate(report["call_items"], None, None)
    report["learner"] = db.session.get(User, attempt.user_id)
    report["log"] = override_log(attempt_id)
    report["flags"] = flags_of(attempt_id)
    report["reviews"] = reviews_of(attempt_id)
    report["review"] = review_summary(attempt_id)
    return report


@dataclass
class ReviewSummary:
    reviewers: list[str]   # who reviewed the call (override or "mark as reviewed"), first first
    at: object             # when it was last reviewed
    comment: str | None    # the latest overall comment
    comment_by: str
    comment_at: object


def review_summary(attempt_id: int) -> ReviewSummary | None:
    """Whether, by whom and when the call was reviewed, and the trainer's overall comment; None when not."""
    rows = reviews_of(attempt_id)
    if not rows:
        return None
    names = list(dict.fromkeys(r.reviewer.name for r in reversed(rows) if r.reviewer is not None))
    commented = next((r for r in rows if r.comment), None)
    return ReviewSummary(names, rows[0].created_at, commented.comment if commented else None,
                         commented.reviewer.name if commented and commented.reviewer else "",
                         commented.created_at if commented else None)


@dataclass
class Note:
    reply: int | None      # the reply's number, None for a call-level item
    rule: dict | str       # the graded item (for its label), or the stored rule name
    automatic: float
    points: float
    comment: str
    reviewer: str
    at: object


def notes_for_report(report: dict) -> list[Note]:
    """The trainers' overrides in effect on an attempt, with their comments, for the learner's report."""
    seqs = {turn["id"]: turn["seq"] for turn in report.get("turns", [])}
    # The graded item itself (its label and explanation) where the report has it, so the note names
    # the rule as the report does, never by its id.
    items = {(turn["id"], item.get("item_id")): item for turn in report.get("turns", [])
             for item in turn.get("items") or ()}
    items.update({(None, item.get("item_id")): item for item in report.get("call_items") or ()})
    notes = []
    for (turn_id, item_id), row in effective_overrides(report["attempt_id"]).items():
        notes.append(Note(seqs.get(turn_id), items.get((turn_id, item_id), row.rule), row.automatic,
                          row.points_after, row.comment, row.reviewer.name if row.reviewer else "",
                          row.created_at))
    notes.sort(key=lambda n: (n.reply or 0, n.at))
    return notes


# --- agreement ----------------------------------------------------------------------------------------

MAX_EXAMPLES = 3


@dataclass
class Example:
    """A disagreement: what the trainee said, and why the trainer changed the verdict."""
    attempt_id: int
    words: str
    comment: str
    raised: bool          # the trainer gave more than the grader
    at: object


@dataclass
class RuleAgreement:
    rule: str
    explanation: str
    reviewed: int = 0     # items of this rule in reviewed calls
    overridden: int = 0   # ... whose points a trainer changed
    raised: int = 0       # trainer awarded more than the grader
    lowered: int = 0
    examples: list = field(default_factory=list)   # up to MAX_EXAMPLES disagreements, newest first

    @property
    def agreement(self) -> float:
        return (self.reviewed - self.overridden) / self.reviewed if self.reviewed else 1.0


def agreement(language: str = "zh-CN") -> tuple[list[RuleAgreement], int]:
    """Per rubric rule, how often trainers kept the automatic verdict in the calls they reviewed
    (an item not overridden is agreement), worst first; and the number of calls reviewed."""
    reviewed_ids = set(db.session.scalars(select(Review.attempt_id).distinct()))
    attempts = list(db.session.scalars(select(Attempt).where(Attempt.id.in_(reviewed_ids),
                                                             Attempt.status == ENDED,
                                                             Attempt.practice.is_(False)))) if reviewed_ids else []
    effective = _effective(a.id for a in attempts)
    rules: dict[str, RuleAgreement] = {}
    for attempt in attempts:
        for turn, item in _items_of(attempt):
            rule = str(item["rule"])
            row = rules.setdefault(rule, RuleAgreement(rule, pick(item.get("explanation"), language)))
            row.reviewed += 1
            override = effective.get((attempt.id, turn.id if turn else None, item["item_id"]))
            if override is not None and abs(override.points_after - float(item["points_awarded"])) > EPSILON:
                row.overridden += 1
                if override.points_after > float(item["points_awarded"]):
                    row.raised += 1
                else:
                    row.lowered += 1
                row.examples.append(Example(attempt.id, turn.transcript if turn else "", override.comment,
                                            override.points_after > float(item["points_awarded"]),
                                            override.created_at))
    for row in rules.values():
        row.examples = sorted(row.examples, key=lambda e: e.at, reverse=True)[:MAX_EXAMPLES]
    ordered = sorted(rules.values(), key=lambda r: (r.agreement, -r.overridden, -r.reviewed, r.rule))
    return ordered, len(attempts)

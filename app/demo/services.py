"""Demo accounts so a newcomer can click through every role. Passwords are in the README."""
from ..accounts.models import User
from ..core.access import Role
from ..accounts.services import create_user, find_user
from ..extensions import db

DEMO_ACCOUNTS = (
    # username, name, roles, password
    ("newhire", "新员工 李明", (Role.LEARNER,), "academy-newhire"),
    ("trainee", "学员 张伟", (Role.LEARNER,), "academy-trainee"),
    ("trainer", "培训师 王芳", (Role.TRAINER,), "academy-trainer"),
    ("hr", "人事 刘洋", (Role.HR,), "academy-hr"),
    ("admin", "管理员 陈静", (Role.ADMIN,), "academy-admin"),
)
DEMO_COHORT = "2026-demo"


def load_demo() -> list[str]:
    report = []
    for username, name, roles, password in DEMO_ACCOUNTS:
        if find_user(username):
            report.append(f"{username}: exists, unchanged")
            continue
        create_user(username, name, roles, cohort=DEMO_COHORT, password=password, must_change_password=False)
        report.append(f"{username}: created")
    db.session.commit()
    from ..courses.services import load_demo_progress
    report.extend(load_demo_progress())
    from .agent import load_agent
    report.extend(load_agent(DEMO_COHORT))
    return report


def demo_user(username: str) -> User | None:
    return find_user(username)

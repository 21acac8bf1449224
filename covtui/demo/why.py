"""A small real project scanned twice with per-test coverage, a test deleted and code added in
between: the explanation screenshot's data (and the file view's tests panel in the UI tests).

Both scans run pytest under the real coverage.py with covtui's context plugin (the same
`scan_source` as `covtui scan`); they are recorded at fixed times so pictures repeat.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

from covtui.config import Config, load_config
from covtui.domain.model import GitInfo, SnapshotDraft, SourceResult
from covtui.errors import CovtuiError

PRICING = '''
def subtotal(items):
    return sum(price * qty for price, qty in items)


def bulk_discount(total, n_items):
    if n_items >= 10:
        rate = 0.1
        if total > 500:
            rate = 0.15
        return total * rate
    return 0.0


def apply_coupon(total, code):
    if code == "WELCOME":
        return total - 5
    if code.startswith("VIP"):
        return total * 0.8
    return total


def price(items, code=""):
    total = subtotal(items)
    total -= bulk_discount(total, sum(q for _, q in items))
    return apply_coupon(total, code) if code else total
'''

CART = '''
class Cart:
    def __init__(self):
        self.items = []

    def add(self, price, qty=1):
        if qty <= 0:
            raise ValueError("qty must be positive")
        self.items.append((price, qty))

    def count(self):
        return sum(q for _, q in self.items)
'''

#: The second scan's new module, untested.
SHIPPING = '''
def shipping(cart, express=False):
    weight = cart.count() * 0.4
    if express:
        return 9.5 + weight
    return 4.0 if weight < 5 else 0.0
'''

TESTS = '''
import pytest

from shop.cart import Cart
from shop.pricing import apply_coupon, bulk_discount, price


def test_price_of_a_small_order():
    assert price([(10, 2)]) == 20


def test_bulk_discount():
    assert bulk_discount(600, 12) == 90
    assert bulk_discount(100, 10) == 10


def test_coupons():
    assert apply_coupon(50, "WELCOME") == 45
    assert apply_coupon(50, "VIP-2") == 40


@pytest.mark.parametrize("qty", [1, 3], ids=["[bold]one", "three"])
def test_cart_counts(qty):
    cart = Cart()
    cart.add(5, qty)
    assert cart.count() == qty
'''

#: The test deleted between the two scans.
DELETED = "test_bulk_discount"

PYPROJECT = """
[tool.coverage.run]
source = ["shop"]
branch = true

[tool.covtui]
sources = [{ name = "python", command = "pytest -q -p no:cacheprovider", contexts = true }]
"""


def write_project(root: Path, *, second: bool) -> None:
    """The project as the first scan (or, `second`, the second) measures it."""
    tests = TESTS
    if second:
        start = tests.index(f"def {DELETED}")
        tests = tests[:start] + tests[tests.index("def test_coupons"):]
    files = {
        "pyproject.toml": PYPROJECT,
        "shop/__init__.py": "",
        "shop/pricing.py": PRICING,
        "shop/cart.py": CART,
        **({"shop/shipping.py": SHIPPING} if second else {}),
        "tests/__init__.py": "",
        "tests/test_shop.py": tests,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def _commit(root: Path, message: str, when: float) -> None:
    """Commit everything, with a fixed author and date: the same commit ids every time."""
    stamp = f"{int(when)} +0000"
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    git = ["git", "-c", "user.name=shop", "-c", "user.email=shop@example.com",
           "-c", "commit.gpgsign=false"]
    if not (root / ".git").exists():
        subprocess.run([*git, "init", "-q", "-b", "main"], cwd=root, check=True, env=env)
        (root / ".gitignore").write_text(".covtui/\n__pycache__/\n")
    subprocess.run([*git, "add", "-A"], cwd=root, check=True, env=env)
    subprocess.run([*git, "commit", "-qm", message], cwd=root, check=True, env=env)


async def scan_twice(root: Path, end: float) -> tuple[Config, list[tuple[SourceResult, GitInfo]]]:
    """Write the project into `root` (a git repository), scan it, delete a test and add code,
    commit, scan it again: each scan's result and the commit it measured."""
    from covtui.git import git_info
    from covtui.scan import scan_source

    results = []
    for second in (False, True):
        write_project(root, second=second)
        _commit(root, "shipping; bulk discount's test removed" if second else "shop", end - (1 if second else 2) * 3600)
        config = load_config(root)
        result = await scan_source(config, config.sources[0])
        if result.report is None or result.report.line_tests is None:
            raise CovtuiError(f"{root}: the scan kept no per-test coverage ({result.message})")
        results.append((result, await git_info(root)))
    return config, results


async def build_why_database(root: Path, db: Path, *, end: float) -> Config:
    """Both scans recorded into `db`, an hour apart, the second at `end`; the sources on disk
    under `root` dated before the first (the file view would warn of a newer file)."""
    from covtui.record import record_snapshot
    from covtui.store import Store

    config, scans = await scan_twice(root, end)
    for path in root.rglob("*.py"):
        os.utime(path, (end - 7200, end - 7200))
    config.database = str(db)
    config.bell = False
    async with await Store.open(db) as store:
        for created_at, (result, git) in zip((end - 3600, end), scans, strict=True):
            result.run.wall_s = 1.2  # the runs' times would differ from run to run
            draft = SnapshotDraft("scan", [result], created_at=created_at, git=git)
            await record_snapshot(store, draft, config)
    return config

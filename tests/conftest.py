"""Shared fixtures: small contract folders written by hand and a generated tiny store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from analytics_pipeline.assets.revenue import write_targets
from analytics_pipeline.assets.segments import write_customer_clv
from analytics_pipeline.resources import ModelParamsResource
from analytics_pipeline.warehouse import DuckDBWarehouse
from analytics_pipeline.warehouse.sql_models import SqlModel, discover, in_dependency_order

NOW = dt.datetime(2026, 3, 31, 23, 0, tzinfo=dt.UTC)



def models_reading(*keys: tuple[str, str]) -> list[SqlModel]:
    """The models ``keys`` and every model they read, transitively, in build order."""
    by_key = {(m.domain, m.name): m for m in discover()}
    wanted = set(keys)
    pending = list(wanted)
    while pending:
        for dep in by_key[pending.pop()].deps:
            if dep in by_key and dep not in wanted:
                wanted.add(dep)
                pending.append(dep)
    return in_dependency_order([by_key[key] for key in wanted])


def build_models(
    wh: DuckDBWarehouse,
    models: list[SqlModel] | None = None,
    targets: Path | None = None,
    as_of: dt.datetime = NOW,
    **model_params: float,
) -> None:
    """Build ``models`` (default: every SQL model) in dependency order, as the assets do.

    The Python-computed tables SQL models read are written in between: the targets first,
    ``segments.customer_clv`` right after its input ``segments.clv_inputs``.
    """
    write_targets(wh, targets)
    resource = ModelParamsResource(**model_params)
    params = {"as_of": as_of, "store_tz": "UTC", **resource.as_params()}
    for model in in_dependency_order(models if models is not None else discover()):
        wh.ensure_schema(model.domain)
        wh.execute(model.create_statement, params)
        if (model.domain, model.name) == ("segments", "clv_inputs"):
            write_customer_clv(wh, resource.clv_config())


# Every bad row below is listed in BROKEN_EXPECTED with the reason it must be quarantined for.
BROKEN_FILES = {
    "products.csv": """product_id,name,category,unit_cost,unit_price,lead_time_days,supplier
p1,Mug,kitchen,4.00,10.00,5,acme
p2,Tea,,2.50,6.00,,leafco
p3,Bad price,kitchen,1.00,-3.00,5,acme
""",
    "customers.csv": """customer_id,email,first_name,last_name,created_at,marketing_opt_in
c1,ann@example.com,Ann,Lee,2026-01-02T09:00:00,true
c2,bob@example.com,Bob,Ray,2026-01-05,no
c2,bob2@example.com,Bob,Ray,2026-01-05,yes
""",
    "orders.csv": """order_id,customer_id,ordered_at,channel,status
o1,c1,2026-03-01T10:00:00,store,completed
o2,,2026-03-01T11:30:00+02:00,store,
o3,c2,2026-03-02T09:00:00,online,refunded
o4,c2,2026-03-03T09:00:00,online,void
o5,c1,2026-03-05T12:00:00,store,Completed
o6,c1,not-a-date,store,completed
o7,c1,2026-03-06T12:00:00,store,lost
,c1,2026-03-06T12:00:00,store,completed
o1,c1,2026-03-01T10:00:00,store,completed
""",
    "order_lines.csv": """order_id,line_number,product_id,quantity,unit_price,discount,unit_cost
o1,1,p1,2,10.00,1.00,4.00
o1,2,p2,1,6.00,,
o2,1,p1,1,10.00,0,
o3,1,p1,1,10.00,0,
o4,1,p2,3,6.00,0,
o5,1,p1,-1,10.00,0,
o5,2,p9,1,7.50,0,3.00
o5,3,p1,0,10.00,0,
o5,4,p1,x,10.00,0,
o99,1,p1,1,10.00,0,
o1,3,p1,1,-1.00,0,
o1,4,p1
""",
    "inventory.csv": """product_id,as_of,on_hand,on_order,location_id
p1,2026-03-30,5,10,main
p1,2026-03-31,4,10,main
p2,2026-03-31,-2,0,main
p1,2026-03-31,3,0,web
""",
    "events.csv": """event_id,customer_id,event_type,product_id,content_id,occurred_at,session_id
e1,c1,product_view,p1,,2026-03-01T09:50:00,s1
e1,c1,product_view,p1,,2026-03-01T09:50:00,s1
,c1,cart_add,p1,,2026-03-01T09:55:00,s1
e3,c1,video_view,,,2026-03-01T09:56:00,s1
e4,c1,teleport,p1,,2026-03-01T09:57:00,s1
""",
    "content.csv": """content_id,title,kind,product_ids,category
k1,Brewing guide,article,p1;p2,kitchen
k2,Unboxing,video,,
""",
}

BROKEN_EXPECTED = {
    ("products.csv", 3): "unit_price: must be >= 0",
    ("customers.csv", 3): "duplicate of row 2",
    ("orders.csv", 6): "ordered_at: not a valid timestamp",
    ("orders.csv", 7): "status: must be one of",
    ("orders.csv", 8): "order_id: required",
    ("orders.csv", 9): "duplicate of row 1",
    ("order_lines.csv", 8): "quantity: must not be 0",
    ("order_lines.csv", 9): "quantity: not a valid int",
    ("order_lines.csv", 10): "order_id: not found in orders",
    ("order_lines.csv", 11): "unit_price: must be >= 0",
    ("order_lines.csv", 12): "malformed CSV row",
    ("events.csv", 2): "duplicate of row 1",
    ("events.csv", 4): "content_id: required for",
    ("events.csv", 5): "event_type: must be one of",
}


def write_folder(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def broken_folder(tmp_path: Path) -> Path:
    return write_folder(tmp_path / "broken", BROKEN_FILES)


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[DuckDBWarehouse]:
    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb", "UTC")
    yield wh
    wh.close()


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generator's tiny store, made once per test session."""
    from analytics_pipeline.generate import generate_store

    out = tmp_path_factory.mktemp("stores") / "tiny"
    generate_store("tiny", 7, out, end_date=NOW.date())
    return out

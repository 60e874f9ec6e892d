"""Every ``sql/<domain>/<table>.sql`` file becomes an asset ``[domain, table]``.

Dependencies come from the tables each query reads, so adding a model is adding a file.
"""


import dagster as dg

from analytics_pipeline.resources import ClockResource, ModelParamsResource, WarehouseResource
from analytics_pipeline.warehouse.sql_models import SqlModel, discover


def sql_model_asset(model: SqlModel) -> dg.AssetsDefinition:
    """An asset that (re)builds ``model``'s table as of the clock's ``as_of``."""
    first_line = model.query.splitlines()[0].lstrip("- ").strip()

    @dg.asset(
        key=[model.domain, model.name],
        group_name=model.domain,
        deps=[dg.AssetKey(list(dep)) for dep in sorted(model.deps)],
        description=first_line,
    )
    def _build(
        warehouse: WarehouseResource, clock: ClockResource, model_params: ModelParamsResource
    ) -> dg.MaterializeResult[None]:
        with warehouse.open() as wh:
            params = {"as_of": clock.now(), "store_tz": clock.store_timezone,
                      **model_params.as_params()}
            wh.ensure_schema(model.domain)
            wh.execute(model.create_statement, params)
            (count,) = wh.fetch_all(f"SELECT count(*) FROM {model.domain}.{model.name}")[0]
        return dg.MaterializeResult(metadata={"dagster/row_count": int(str(count))})

    return _build


SQL_MODEL_ASSETS = [sql_model_asset(model) for model in discover()]

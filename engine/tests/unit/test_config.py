import pytest
import yaml

from mlops_engine.config import ConfigError, load_params, parse_params

pytestmark = pytest.mark.example


@pytest.fixture
def raw(root):
    return yaml.safe_load((root / "params.yaml").read_text())


def test_project_params_parse(params):
    assert params.contract.task == "regression"
    assert params.contract.target not in params.contract.features
    assert params.contract.time_column not in params.contract.features


def test_typo_in_key_fails_with_its_path(raw):
    raw["train"]["estimater"] = raw["train"].pop("estimator")
    with pytest.raises(ConfigError, match=r"train\.estimater: Extra inputs are not permitted"):
        parse_params(raw)


def test_wrong_type_fails_with_its_path(raw):
    raw["split"]["test_size"] = "a fifth"
    with pytest.raises(ConfigError, match=r"split\.test_size"):
        parse_params(raw)


def test_an_estimator_name_must_be_a_name(raw):
    raw["train"]["estimator"] = "XGBoost!"
    with pytest.raises(ConfigError, match=r"train\.estimator"):
        parse_params(raw)


def test_an_unknown_estimator_fails_before_any_fit_listing_the_families(raw, train_test):
    """Checked when train starts against the engine's and the project's families (config
    never imports the project: the stages before train do not depend on its code)."""
    from mlops_engine.pipeline.train import train

    raw["train"]["estimator"] = "xgboost"
    params = parse_params(raw)
    with pytest.raises(
        ValueError, match=r"unknown estimator 'xgboost'.*hist_gradient_boosting.*extra_trees"
    ):
        train(train_test[0].head(50), params.train, params.contract, params.seed)


def test_params_are_frozen(params):
    with pytest.raises(Exception, match="frozen"):
        params.seed = 1


def test_target_must_be_declared(raw):
    raw["contract"]["target"] = "riders"
    with pytest.raises(ConfigError, match="target 'riders' is not declared"):
        parse_params(raw)


def test_time_split_needs_time_column(raw):
    raw["contract"]["time_column"] = None
    with pytest.raises(ConfigError, match=r"needs contract\.time_column"):
        parse_params(raw)


def test_slice_on_unknown_column_fails(raw):
    raw["evaluate"]["slices"].append({"column": "colour"})
    with pytest.raises(ConfigError, match="'colour' is not a contract column"):
        parse_params(raw)


def test_missing_and_invalid_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_params(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: [1\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params(bad)


def test_params_rewritten_by_dvc_keep_their_strings(root, tmp_path):
    """`dvc exp run -S` rewrites params.yaml with ruamel, dropping the quotes that keep a
    category such as "No" a string for YAML 1.1 readers; the file must still load the same."""
    from dvc.utils.serialize import modify_yaml

    path = tmp_path / "params.yaml"
    path.write_text((root / "params.yaml").read_text())
    with modify_yaml(path) as doc:
        doc["contract"]["columns"]["weathersit"]["categories"].append("No")
        doc["train"]["hyperparams"]["learning_rate"] = 0.05
    text = path.read_text()
    assert "No" in text and '"No"' not in text and "'No'" not in text, "unquoted, as DVC does"
    categories = load_params(path).contract.columns["weathersit"].categories
    assert categories[-1] == "No"

from validator.findings import RULE_CATALOGUE, rule_table_markdown

from .conftest import ROOT


def test_readme_rule_table_is_the_generated_one() -> None:
    assert rule_table_markdown() in (ROOT / "README.md").read_text()


def test_every_contract_rule_code_is_in_the_catalogue() -> None:
    contract = ROOT.parent / "shared" / "spec" / "contract.md"
    if not contract.exists():  # the spec sits beside the repository in CI and development
        return
    import re

    codes = set(re.findall(r"^\| `([a-z-]+)` \| (?:information|warning|error)", contract.read_text(), re.M))
    assert codes and codes <= set(RULE_CATALOGUE)

from validator.findings import RULE_CATALOGUE
from validator.rules.docs import rule_codes_markdown

from .conftest import ROOT


def test_readme_rule_section_is_the_generated_one() -> None:
    readme = (ROOT / "README.md").read_text()
    assert rule_codes_markdown() in readme, "run `python -m validator.rules` and paste its output over the README's Rule codes section"
    assert readme.count("\n## Rule codes\n") == 1


def test_every_contract_rule_code_is_in_the_catalogue() -> None:
    contract = ROOT.parent / "shared" / "spec" / "contract.md"
    if not contract.exists():  # the spec sits beside the repository in CI and development
        return
    import re

    codes = set(re.findall(r"^\| `([a-z-]+)` \| (?:information|warning|error)", contract.read_text(), re.M))
    assert codes and codes <= set(RULE_CATALOGUE)

from .docs import rule_codes_markdown

print(rule_codes_markdown(), end="")

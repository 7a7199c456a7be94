"""The licence pyproject names is in the repository, and CITATION.cff names the paper the kit reproduces."""
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_the_licence_file_is_the_one_pyproject_declares():
    assert 'license = { text = "MIT" }' in (ROOT / "pyproject.toml").read_text()
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_the_citation_file_names_the_paper_and_the_kit():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["license"] == "MIT" and cff["authors"]
    paper = cff["preferred-citation"]
    assert paper["title"].startswith("GANonymization: A GAN-based Face Anonymization Framework")
    assert paper["year"] == 2023 and [a["family-names"] for a in paper["authors"]][:2] == ["Hellmann", "Mertes"]

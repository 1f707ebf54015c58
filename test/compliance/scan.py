"""Runs cfn-lint and checkov over synthesized templates and fails on any
finding that skipped-checks.yaml does not accept, or on an entry there that no
longer matches a finding.

Run by scan.sh inside the virtual environment it makes:
    python scan.py --templates DIR --skips skipped-checks.yaml
"""
import argparse
import fnmatch
import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import yaml


def load_skips(path):
    with open(path, encoding="utf-8") as f:
        skips = yaml.safe_load(f) or {}
    unknown = set(skips) - {"cfn-lint", "checkov"}
    if unknown:
        sys.exit(f"{path}: unknown sections {sorted(unknown)}")
    for tool, entries in skips.items():
        for entry in entries or []:
            missing = {"id", "resources", "reason"} - set(entry)
            if missing or not str(entry["reason"]).strip():
                sys.exit(f"{path}: {tool} entry {entry.get('id')} needs id, resources and a reason")
            entry["matched"] = 0
    return skips


def construct_paths(template_file):
    """Logical id -> construct path, from each resource's aws:cdk:path metadata."""
    with open(template_file, encoding="utf-8") as f:
        resources = json.load(f).get("Resources", {})
    return {
        logical_id: (resource.get("Metadata") or {}).get("aws:cdk:path", logical_id)
        for logical_id, resource in resources.items()
    }


def run_cfn_lint(templates):
    """Every cfn-lint match (errors, warnings and informational) as (id, file, logical id, message)."""
    result = subprocess.run(
        ["cfn-lint", "--format", "json", "--", *map(str, templates)],
        capture_output=True, text=True, check=False,
    )
    # cfn-lint exits non-zero when it finds something; anything not JSON is a crash.
    try:
        matches = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        sys.exit(f"cfn-lint failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    findings = []
    for m in matches:
        path = m["Location"]["Path"]
        logical_id = path[1] if len(path) > 1 and path[0] == "Resources" else None
        findings.append((m["Rule"]["Id"], m["Filename"], logical_id, f'{m["Level"]}: {m["Message"]}'))
    return findings


def run_checkov(templates):
    """Every failed checkov check as (id, file, logical id, name)."""
    args = ["checkov", "--framework", "cloudformation", "--output", "json", "--quiet", "--soft-fail",
            # Nothing is fetched from the vendor's platform: the scan runs on bundled checks only.
            "--skip-download"]
    for t in templates:
        args += ["--file", str(t)]
    result = subprocess.run(args, capture_output=True, text=True, check=False,
                            env={**os.environ, "BC_SKIP_MAPPING": "TRUE"})
    try:
        reports = json.loads(result.stdout)
    except json.JSONDecodeError:
        sys.exit(f"checkov failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    reports = reports if isinstance(reports, list) else [reports]
    findings = []
    for report in reports:
        summary = report.get("summary", {})
        if summary.get("parsing_errors"):
            sys.exit(f"checkov could not parse a template: {summary}")
        for check in report["results"]["failed_checks"]:
            logical_id = check["resource"].split(".", 1)[1]
            file = next(t for t in templates if check["file_path"].endswith(t.name))
            findings.append((check["check_id"], str(file), logical_id, check["check_name"]))
    return findings, summary_line(reports)


def summary_line(reports):
    passed = sum(r.get("summary", {}).get("passed", 0) for r in reports)
    failed = sum(r.get("summary", {}).get("failed", 0) for r in reports)
    return f"{passed} checks passed, {failed} findings before the accepted skips"


def judge(tool, findings, skips, paths):
    """Returns the findings no skip accepts; counts the matches of each skip."""
    left = []
    for rule_id, file, logical_id, message in findings:
        construct_path = paths[Path(file).name].get(logical_id, logical_id or "(template)")
        entry = next((e for e in skips.get(tool) or []
                      if e["id"] == rule_id
                      and any(fnmatch.fnmatchcase(construct_path, g) for g in e["resources"])), None)
        if entry is None:
            left.append(f"{tool} {rule_id} on {construct_path} ({Path(file).name}): {message}")
        else:
            entry["matched"] += 1
    return left


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--templates", required=True, type=Path)
    parser.add_argument("--skips", required=True, type=Path)
    args = parser.parse_args()

    templates = sorted(args.templates.glob("*.template.json"))
    if not templates:
        sys.exit(f"no templates in {args.templates}")
    skips = load_skips(args.skips)
    paths = {t.name: construct_paths(t) for t in templates}

    problems = judge("cfn-lint", run_cfn_lint(templates), skips, paths)
    checkov_findings, checkov_summary = run_checkov(templates)
    problems += judge("checkov", checkov_findings, skips, paths)
    for tool, entries in skips.items():
        for entry in entries or []:
            if entry["matched"] == 0:
                problems.append(f"{args.skips.name}: {tool} {entry['id']} on {entry['resources']} matches no finding; remove it")

    print(f"cfn-lint {version('cfn-lint')}, checkov {version('checkov')}")
    print(f"scanned {', '.join(t.name for t in templates)}")
    print(f"checkov: {checkov_summary}")
    for tool, entries in skips.items():
        for entry in entries or []:
            print(f"skipped {tool} {entry['id']} on {', '.join(entry['resources'])}: {entry['matched']} finding(s)")
    if problems:
        print("\n".join(["", "FAILED:", *problems]), file=sys.stderr)
        sys.exit(1)
    print("cfn-lint and checkov: no finding beyond the skipped checks")


if __name__ == "__main__":
    main()

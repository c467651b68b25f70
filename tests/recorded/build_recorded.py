"""Rebuild the recorded HTTP responses in this folder from the real files in ../shared/corpus.

Run from the repository root: ``python tests/recorded/build_recorded.py [CORPUS_DIR]``.
See README.md here for what each file is derived from.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / "shared" / "corpus"

# The corpus holds no datastore_search response, so the two data dictionaries of the Barcelona
# package's datastore-active resources are written here by hand, in the exact shape CKAN's
# datastore_search returns (fields with id, type and the Data Dictionary "info" object).
BARCELONA_DICTIONARIES = {
    "a6a23cd9-f2b7-4ed2-a4b8-a7ab593b01d7": [
        {"id": "_id", "type": "int"},
        {"id": "nom", "type": "text",
         "info": {"label": "Nom", "notes": "Nom masculí", "type_override": ""}},
        {"id": "freq", "type": "int4",
         "info": {"label": "Freqüència", "notes": "Nombre d'homes amb aquest nom",
                  "type_override": "int"}},
        {"id": "any", "type": "int4", "info": {"label": "Any", "notes": "Any de referència"}},
    ],
    "a6a23cd9-f2b7-4ed2-a4b8-a7ab593b01d8": [
        {"id": "_id", "type": "int"},
        {"id": "municipi", "type": "text",
         "info": {"label": "Municipi", "notes": "Municipi de residència"}},
    ],
}


def envelope(action: str, result: object) -> dict:
    """A CKAN Action API response envelope."""
    return {
        "help": f"https://demo.ckan.org/api/3/action/help_show?name={action}",
        "success": True,
        "result": result,
    }


def write(name: str, data: object) -> None:
    """Write one recorded response, pretty-printed."""
    (HERE / name).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", "utf-8")


def main() -> None:
    """Write every recorded response."""
    packages = [
        json.loads((CORPUS / "ckan" / name).read_text("utf-8"))["result"]
        for name in ("package_show_barcelona_diba_nombres.json",
                     "package_show_ecocommons_anuclim_with_extras.json")
    ]
    packages.sort(key=lambda package: package["name"])
    write("ckan_package_search.json",
          envelope("package_search", {"count": len(packages), "sort": "name asc",
                                      "results": packages}))
    for resource_id, fields in BARCELONA_DICTIONARIES.items():
        write(f"ckan_datastore_search_{resource_id}.json",
              envelope("datastore_search", {"resource_id": resource_id, "records": [],
                                            "fields": fields, "_links": {}}))

    discovery = json.loads(
        (CORPUS / "socrata/discovery_api/catalog_v1_2966a2_chicago_transportation.json")
        .read_text("utf-8"))
    keep = ("i6bp-fvbx", "ygr5-vcbg", "6iiy-9s97", "4i42-qv3h", "n4j6-wkkf")
    results = [r for r in discovery["results"] if r["resource"]["id"] in keep]
    write("socrata_catalog_chicago.json",
          {"results": results, "resultSetSize": len(results), "timings": {}, "warnings": []})

    for name in ("cftc_data.json", "ny_sonyma_sample.data.json"):
        write(f"dcat_{name}", json.loads((CORPUS / "dcat_us" / name).read_text("utf-8")))


if __name__ == "__main__":
    main()

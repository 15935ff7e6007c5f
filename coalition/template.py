"""The submission template: an .xlsx a partner downloads, fills by hand and uploads.

The workbook has three sheets:

* "Instructions" / "填写说明" — what one row is, what each column means, how to send it back;
* "Data" / "数据" — the one sheet the reader reads: a title (row 1), a hint (row 2), the header
  row (``HEADER_ROW``) with "key / label" cells, one example row (``EXAMPLE_ROW``) whose notes
  start with one of ``columns.EXAMPLE_MARKERS``, then empty, pre-formatted rows with drop-downs;
* "Lists" — hidden; the values of the drop-downs (an inline list is limited to 255 characters).

Every drop-down value is one the reader resolves: the partner's registered platform names,
species-group names in the template's language (stored in ``species_synonyms``) and country
names in that language from the ``countries`` table.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
import zipfile

import duckdb
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.child import INVALID_TITLE_REGEX
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from coalition import columns as cols
from coalition import store
from coalition.i18n import t
from coalition.store import StoreError

# A row whose notes cell starts with one of these (after leading spaces, any case) is the
# template's example and is skipped by the validator.

TITLE_ROW = 1
HINT_ROW = 2
HEADER_ROW = 3
EXAMPLE_ROW = 4
FIRST_DATA_ROW = 5
# Drop-downs and number checks cover the example row and the rows below it, down to here.
LAST_ROW = 5000
LISTS_SHEET = "Lists"
CREATOR = "Coalition Progress Tracker"

# The example row's country (ISO alpha-3); shown by its name in the template's language.
EXAMPLE_COUNTRY = "VNM"
EXAMPLE_COUNTS = {
    "listings_removed": 120,
    "listings_blocked": 450,
    "accounts_actioned": 12,
    # reports_received stays blank: "not reported", which is not 0
    "listings_detected": 8,
    "search_effort": 200,
}

COUNTRY_NAMES = "SELECT iso3, name_en, name_zh FROM countries"

# Texts of the template, by language. (The interface's texts live in gettext catalogues; the
# template is a document in one language chosen at download, so its texts are kept together.)
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "sheet_instructions": "Instructions",
        "sheet_data": "Data",
        "doc_title": "Coalition submission template — {partner}",
        "title": "{partner} — submission template",
        "subtitle": (
            "Coalition Progress Tracker · wildlife trafficking online · template of {date}"
        ),
        "how": "How to fill it in",
        "bullets": "\n".join(
            (
                "• Fill the sheet “{data}”: one row per platform × period × species group × "
                "country, for {partner}.",
                "• A blank count means “not reported”; 0 means none. Fill the counts you have; "
                "each row needs at least one.",
                "• Period: a month or a quarter, written 2019-07, 2019-Q3, 2019年第3季度 or "
                "2019年7月.",
                "• Platform, species group and country have drop-down lists. Leave the country "
                "blank for global / unspecified.",
                "• Row {example_row} of “{data}” is an example: it is ignored, so delete it or "
                "leave it.",
                "• Send it back: upload the file on the Submit data page (the secretariat can "
                "also load it with: coalition ingest FILE --partner {slug}).",
            )
        ),
        "columns": "Columns",
        "col_column": "Column",
        "col_required": "Required",
        "col_meaning": "Meaning",
        "required_yes": "yes",
        "required_count": "at least one count",
        "required_no": "no",
        "data_title": "Coalition submission — {partner}",
        "data_hint": (
            "One row per platform, period, species group and country. Blank = not reported, "
            "0 = none. See “{instructions}”."
        ),
        "example": "EXAMPLE – delete or leave; this row is ignored",
        "period_prompt_title": "Period",
        "period_prompt": (
            "A month or a quarter: 2019-07, 2019-Q3, 2019年第3季度 or 2019年7月. "
            "One period per row."
        ),
        "platform_prompt_title": "Platform",
        "platform_prompt": "Pick one of your registered platforms.",
        "platform_error_title": "Unknown platform",
        "platform_error": (
            "Pick a platform from the list. A platform that is missing must first be "
            "registered by the coalition secretariat."
        ),
        "species_prompt_title": "Species group",
        "species_prompt": "Pick a species group (or type a common name such as ivory).",
        "species_error_title": "Species group not in the list",
        "species_error": (
            "This is not one of the listed species groups. Keep it only if it is a common or "
            "scientific name (e.g. ivory, Manis javanica); the upload check says if it is "
            "not recognised."
        ),
        "country_prompt_title": "Country / territory",
        "country_prompt": "Pick a country or type its ISO code; leave blank for global.",
        "country_error_title": "Country not in the list",
        "country_error": (
            "This is not one of the listed names. Keep it only if it is an ISO code (VNM, VN) "
            "or another spelling; the upload check says if it is not recognised."
        ),
        "count_error_title": "Whole number needed",
        "count_error": (
            "Enter a whole number of 0 or more, or leave the cell blank if it is not reported."
        ),
    },
    "zh": {
        "sheet_instructions": "填写说明",
        "sheet_data": "数据",
        "doc_title": "联盟数据提交模板 — {partner}",
        "title": "{partner} — 数据提交模板",
        "subtitle": "联盟进展追踪系统 · 网络野生动物非法贸易 · 模板生成日期 {date}",
        "how": "填写方法",
        "bullets": "\n".join(
            (
                "• 请填写“{data}”工作表：每行对应 {partner} 的一个 平台 × 期间 × 物种类别 × "
                "国家/地区。",
                "• 数量留空表示“未报告”；填 0 表示“没有”。只填写已掌握的数量，每行至少填一项。",
                "• 期间：月份或季度，写作 2019-07、2019-Q3、2019年第3季度 或 2019年7月。",
                "• 平台、物种类别和国家/地区可从下拉列表中选择。全球/未指明请将国家/地区留空。",
                "• “{data}”工作表第 {example_row} 行是示例，上传时将被忽略，可删除或保留。",
                "• 提交：在“提交数据”页面上传本文件（秘书处也可运行："
                "coalition ingest 文件 --partner {slug}）。",
            )
        ),
        "columns": "各列说明",
        "col_column": "列",
        "col_required": "是否必填",
        "col_meaning": "含义",
        "required_yes": "必填",
        "required_count": "数量至少填一项",
        "required_no": "选填",
        "data_title": "联盟数据提交 — {partner}",
        "data_hint": (
            "每行一个 平台 × 期间 × 物种类别 × 国家/地区。留空=未报告，0=没有。"
            "详见“{instructions}”。"
        ),
        "example": "示例——可删除或保留；此行将被忽略",
        "period_prompt_title": "期间",
        "period_prompt": "月份或季度：2019-07、2019-Q3、2019年第3季度 或 2019年7月。每行一个期间。",
        "platform_prompt_title": "平台",
        "platform_prompt": "请选择贵公司已登记的平台之一。",
        "platform_error_title": "平台不在列表中",
        "platform_error": "请从列表中选择平台。如缺少某个平台，请先由联盟秘书处登记。",
        "species_prompt_title": "物种类别",
        "species_prompt": "请选择物种类别（也可输入常用名称，如象牙）。",
        "species_error_title": "物种类别不在列表中",
        "species_error": (
            "该值不是列表中的物种类别。仅当它是常用名称或学名（如 象牙、Manis javanica）时保留；"
            "上传检查会提示无法识别的名称。"
        ),
        "country_prompt_title": "国家/地区",
        "country_prompt": "请选择国家/地区或输入 ISO 代码；全球/未指明请留空。",
        "country_error_title": "国家/地区不在列表中",
        "country_error": (
            "该值不是列表中的名称。仅当它是 ISO 代码（如 VNM、VN）或其他写法时保留；"
            "上传检查会提示无法识别的名称。"
        ),
        "count_error_title": "请输入整数",
        "count_error": "请输入大于或等于 0 的整数；未报告请留空。",
    },
}

COUNT_FORMAT = "#,##0"
TEXT_FORMAT = "@"
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
BOLD = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)
HINT_FONT = Font(italic=True, color="595959")
EXAMPLE_FONT = Font(italic=True, color="808080")
WRAP_TOP = Alignment(wrap_text=True, vertical="top")

# Column widths (in characters) by column kind; a platform or species column widens to fit.
WIDTHS = {"period": 14, "platform": 18, "species": 24, "country": 24, "count": 17, "text": 22}
NOTES_WIDTH = 48


def last_complete_quarter(today: dt.date) -> str:
    """The last quarter that has ended before ``today``, as ``YYYY-Qn``."""
    quarter = (today.month - 1) // 3  # the current quarter, counted from 0
    return f"{today.year - 1}-Q4" if quarter == 0 else f"{today.year}-Q{quarter}"


def build_template(
    cur: duckdb.DuckDBPyConnection,
    partner: str,
    lang: str = "en",
    *,
    today: dt.date | None = None,
) -> bytes:
    """The submission template of ``partner`` (its slug) as .xlsx bytes.

    ``lang`` is ``"en"`` or ``"zh"`` (any ``zh_*`` code); other languages get English.
    ``today`` dates the workbook and picks the example row's period (the last complete
    quarter); given, the output is byte for byte the same on every call.
    Raises :class:`coalition.store.StoreError` for an unknown partner or one without platforms.
    """
    lang = "zh" if lang.lower().startswith("zh") else "en"
    text = TEXTS[lang]
    partner_name, platforms = _partner(cur, partner)
    species = _species_names(cur, lang)
    countries, country_by_iso3 = _country_names(cur, lang)
    when = dt.datetime.combine(today, dt.time()) if today else dt.datetime.now()
    today = when.date()

    wb = Workbook()
    instructions = wb.active
    instructions.title = _sheet_title(text["sheet_instructions"])
    data = wb.create_sheet(_sheet_title(text["sheet_data"]))
    lists = wb.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"

    fmt = {
        "partner": partner_name,
        "slug": partner,
        "date": today.isoformat(),
        "data": data.title,
        "instructions": instructions.title,
        "example_row": EXAMPLE_ROW,
    }
    _fill_instructions(instructions, text, fmt, lang)
    ranges = {
        "platform": _fill_list(lists, 1, platforms),
        "species": _fill_list(lists, 2, species),
        "country": _fill_list(lists, 3, countries),
    }
    example = {
        "period": last_complete_quarter(today),
        "platform": platforms[0],
        "species_group": species[0],
        "country": country_by_iso3.get(EXAMPLE_COUNTRY),
        **EXAMPLE_COUNTS,
        "notes": text["example"],
    }
    _fill_data(data, text, fmt, lang, ranges, example, widths={"platform": platforms})

    props = wb.properties
    props.title = text["doc_title"].format(**fmt)
    props.creator = CREATOR
    props.lastModifiedBy = CREATOR
    props.language = "zh-CN" if lang == "zh" else "en"
    props.created = props.modified = when
    return _save(wb, when)


# --- reading the database --------------------------------------------------------------------


def _partner(cur: duckdb.DuckDBPyConnection, slug: str) -> tuple[str, list[str]]:
    partners = store.partners(cur)
    found = partners.loc[partners["slug"] == slug, "name"]
    if found.empty:
        known = ", ".join(sorted(partners["slug"])) or t("none yet")
        raise StoreError(
            t(
                "There is no partner '{slug}' (known partners: {known}). Use the partner's "
                "slug, or register it first (Admin page or 'coalition partner add').",
                slug=slug,
                known=known,
            )
        )
    platforms = store.platforms(cur)
    names = platforms.loc[platforms["partner"] == slug, "name"].tolist()
    if not names:
        raise StoreError(
            t(
                "Partner '{slug}' ({name}) has no platforms registered, so its template would "
                "have nothing to choose from. Register at least one platform first (Admin page "
                "or 'coalition partner add ... --platform NAME').",
                slug=slug,
                name=found.iloc[0],
            )
        )
    return str(found.iloc[0]), [str(n) for n in names]


def _species_names(cur: duckdb.DuckDBPyConnection, lang: str) -> list[str]:
    groups = store.species_groups(cur)
    return groups["name_zh" if lang == "zh" else "name_en"].astype(str).tolist()


def _country_names(cur: duckdb.DuckDBPyConnection, lang: str) -> tuple[list[str], dict[str, str]]:
    """Country names in ``lang`` in list order, and the name of each ISO alpha-3 code.

    English names are in alphabetical order; Chinese names in code-point order, which for
    Chinese characters is radical-and-stroke order, as in a dictionary.
    """
    column = 2 if lang == "zh" else 1
    rows = cur.execute(COUNTRY_NAMES).fetchall()
    by_iso3 = {r[0]: str(r[column]) for r in rows}
    names = sorted(by_iso3.values(), key=lambda n: (n.casefold(), n))
    return names, by_iso3


# --- writing the workbook --------------------------------------------------------------------


def _sheet_title(title: str) -> str:
    return INVALID_TITLE_REGEX.sub("", title)[:31]


def _put_text(cell: Cell, value: str) -> Cell:
    """Write ``value`` as text, even if it starts with "=" (a name must never become a
    formula: the template is opened in Excel on the partner's machine)."""
    cell.value = value
    cell.data_type = "s"
    return cell


def _display_width(value: str) -> int:
    """Width in Excel character units: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in value)


def _fill_instructions(ws: Worksheet, text: dict[str, str], fmt: dict, lang: str) -> None:
    _put_text(ws.cell(1, 1), text["title"].format(**fmt)).font = TITLE_FONT
    _put_text(ws.cell(2, 1), text["subtitle"].format(**fmt)).font = HINT_FONT
    _put_text(ws.cell(4, 1), text["how"]).font = BOLD
    row = 5
    for line in text["bullets"].format(**fmt).split("\n"):
        _put_text(ws.cell(row, 1), line)
        row += 1
    row += 1
    _put_text(ws.cell(row, 1), text["columns"]).font = BOLD
    row += 1
    for col, key in enumerate(("col_column", "col_required", "col_meaning"), start=1):
        cell = _put_text(ws.cell(row, col), text[key])
        cell.font = BOLD
        cell.fill = HEADER_FILL
    for column in cols.columns():
        row += 1
        if column.required:
            required = text["required_yes"]
        elif column.kind == "count":
            required = text["required_count"]
        else:
            required = text["required_no"]
        _put_text(ws.cell(row, 1), _header(column, lang))
        _put_text(ws.cell(row, 2), required)
        _put_text(ws.cell(row, 3), column.help(lang)).alignment = WRAP_TOP
    # the bullets and titles run across; the table's columns set the widths
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 20
    ws.column_dimensions["C"].width = 70
    ws.sheet_view.showGridLines = False


def _header(column: cols.Column, lang: str) -> str:
    return f"{column.key} / {column.label(lang)}"


def _fill_list(ws: Worksheet, col: int, values: list[str]) -> str:
    """Write ``values`` down column ``col`` of the lists sheet; returns their absolute range."""
    for row, value in enumerate(values, start=1):
        _put_text(ws.cell(row, col), value)
    letter = get_column_letter(col)
    ws.column_dimensions[letter].width = max(_display_width(v) for v in values) + 2
    return f"{ws.title}!${letter}$1:${letter}${len(values)}"


def _fill_data(
    ws: Worksheet,
    text: dict[str, str],
    fmt: dict,
    lang: str,
    ranges: dict[str, str],
    example: dict[str, object],
    widths: dict[str, list[str]],
) -> None:
    _put_text(ws.cell(TITLE_ROW, 1), text["data_title"].format(**fmt)).font = TITLE_FONT
    _put_text(ws.cell(HINT_ROW, 1), text["data_hint"].format(**fmt)).font = HINT_FONT

    validations = _validations(text, ranges)
    for index, column in enumerate(cols.columns(), start=1):
        letter = get_column_letter(index)
        cell = _put_text(ws.cell(HEADER_ROW, index), _header(column, lang))
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")

        dim = ws.column_dimensions[letter]
        dim.width = _column_width(column, lang, widths)
        # a column style formats every row a partner may fill, without writing empty cells
        # that a reader would have to skip
        dim.number_format = COUNT_FORMAT if column.kind == "count" else TEXT_FORMAT

        value = example.get(column.key)
        if value is not None:
            cell = ws.cell(EXAMPLE_ROW, index)
            if isinstance(value, int):
                cell.value = value
            else:
                _put_text(cell, str(value))
        cell = ws.cell(EXAMPLE_ROW, index)
        cell.font = EXAMPLE_FONT
        cell.number_format = dim.number_format

        validation = validations.get(column.kind)
        if validation is not None:
            validation.add(f"{letter}{EXAMPLE_ROW}:{letter}{LAST_ROW}")

    for validation in validations.values():
        if validation.sqref:
            ws.add_data_validation(validation)

    lines = max(
        len(_wrap(_header(c, lang), _column_width(c, lang, widths))) for c in cols.columns()
    )
    ws.row_dimensions[HEADER_ROW].height = 15 * lines + 3
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 1).coordinate
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"


def _column_width(column: cols.Column, lang: str, widths: dict[str, list[str]]) -> float:
    if column.key == "notes":
        return NOTES_WIDTH
    width = WIDTHS.get(column.kind, WIDTHS["text"])
    for value in widths.get(column.key, ()):
        width = max(width, min(_display_width(value) + 3, 40))
    return width


def _wrap(header: str, width: float) -> list[str]:
    """The lines a wrapped header cell shows (roughly), to size the header row."""
    lines: list[str] = []
    for word in header.split(" "):
        if lines and _display_width(lines[-1]) + 1 + _display_width(word) <= width - 2:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _validations(text: dict[str, str], ranges: dict[str, str]) -> dict[str, DataValidation]:
    """One data validation per column kind; a column adds its cells to its kind's."""

    def make(kind: str, *, prompt: bool = True, **kwargs: object) -> DataValidation:
        return DataValidation(
            allow_blank=True,
            showInputMessage=prompt,
            showErrorMessage=kwargs.pop("showErrorMessage", True),
            promptTitle=text[f"{kind}_prompt_title"] if prompt else None,
            prompt=text[f"{kind}_prompt"] if prompt else None,
            errorTitle=text.get(f"{kind}_error_title"),
            error=text.get(f"{kind}_error"),
            **kwargs,
        )

    return {
        # any text: the formats are too many for a formula, the prompt lists them
        "period": make("period", showErrorMessage=False),
        "platform": make("platform", type="list", formula1=ranges["platform"]),
        # synonyms, scientific names and ISO codes are accepted too: a warning lets them stay
        "species": make("species", type="list", formula1=ranges["species"], errorStyle="warning"),
        "country": make("country", type="list", formula1=ranges["country"], errorStyle="warning"),
        # no prompt: it would pop up on every one of the six count cells of a row
        "count": make(
            "count", prompt=False, type="whole", operator="greaterThanOrEqual", formula1="0"
        ),
    }


def _save(wb: Workbook, when: dt.datetime) -> bytes:
    """The workbook as bytes, every zip entry dated ``when`` so that equal input gives equal
    bytes. (``openpyxl.Workbook.save`` would stamp the current time into the properties.)"""
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    out = io.BytesIO()
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    with (
        zipfile.ZipFile(raw) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()

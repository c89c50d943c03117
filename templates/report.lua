-- Pandoc filter for both editions of the report.
--  * Source notes (`::: source-note` divs written by the notebook under each table and
--    chart) are set small and close to what they document: Typst #source-note; the
--    HTML edition styles the div's class.
--  * Typst only: tables get the full text width with columns weighted by what they
--    hold, and charts keep their text alternative.
--  * HTML only: headings one level down (one `h1`, the cover title), table header
--    cells scoped, wide tables in a keyboard-scrollable region.
--  * HTML only: when the metadata has `demo: true`, every chapter repeats the
--    demonstration notice, so that a chapter linked or printed alone still says its
--    figures are fictitious (the PDF prints it on every page instead).
-- Only block-level functions: a function on inlines makes pandoc hand every inline
-- of the document to Lua, which cost more than the rest of the filter.

local is_demo = false

function Meta(meta)
  is_demo = meta.demo == true
end

function Div(div)
  if FORMAT ~= "typst" or not div.classes:includes("source-note") then
    return nil
  end
  local blocks = { pandoc.RawBlock("typst", "#source-note[") }
  for _, block in ipairs(div.content) do
    blocks[#blocks + 1] = block.t == "Para" and pandoc.Plain(block.content) or block
  end
  blocks[#blocks + 1] = pandoc.RawBlock("typst", "]")
  return blocks
end

-- Typst only: give every table the full text width, with columns proportional to
-- what they hold. Pandoc's own widths are either natural (a narrow table floating in
-- the middle) or equal (a squeezed label column beside roomy number columns).
-- Header words count, not whole headers: long headers break over lines.
local MAX_SHARE = 0.36

local function longest_word(text)
  local longest = 0
  for word in text:gmatch("%S+") do
    longest = math.max(longest, utf8.len(word) or #word)
  end
  return longest
end

-- A number cell ("1 234", "57,1 %", "12 345 €", "s"): its width is its length
-- (templates/report.typ keeps numbers on one line).
local function is_number(text)
  return text:match("^[%d%s,.%%+-]+[€%%]?$") ~= nil or text == "s" or text:match("^s%d*$") ~= nil
end

local function text_length(text)
  return utf8.len(text) or #text
end

local function column_weights(tbl)
  local weights = {}
  for i = 1, #tbl.colspecs do
    weights[i] = 4
  end
  for _, row in ipairs(tbl.head.rows) do
    for i, cell in ipairs(row.cells) do
      -- bold header letters are wider than body figures
      weights[i] = math.max(weights[i], 1.3 * longest_word(pandoc.utils.stringify(cell.contents)) + 1)
    end
  end
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.body) do
      for i, cell in ipairs(row.cells) do
        local text = pandoc.utils.stringify(cell.contents)
        if is_number(text) then
          weights[i] = math.max(weights[i], text_length(text) + 2)
        else
          -- labels may wrap: beyond 24 characters they take a second line
          weights[i] = math.max(weights[i], math.min(text_length(text), 24) + 1, longest_word(text) + 1)
        end
      end
    end
  end
  return weights
end

local function capped_shares(weights)
  local total = 0
  for _, w in ipairs(weights) do total = total + w end
  local shares, capped, spare, free = {}, {}, 0, 0
  for i, w in ipairs(weights) do
    shares[i] = w / total
    if #weights > 2 and shares[i] > MAX_SHARE then
      spare = spare + shares[i] - MAX_SHARE
      shares[i] = MAX_SHARE
      capped[i] = true
    else
      free = free + shares[i]
    end
  end
  for i = 1, #shares do
    if not capped[i] and free > 0 then
      shares[i] = shares[i] + spare * shares[i] / free
    end
  end
  return shares
end

-- HTML only: header cells say what they head (`<th scope="col">`, and the label columns'
-- cells become `<th scope="row">`), so that a screen reader announces "Taux de couverture,
-- Grenoble, 59,2 %" rather than a bare number. Label columns are the leading columns whose
-- header is empty (one, or two in the evolution table: item, then zone); the empty corner
-- cells head nothing and get no scope. An item written once for several rows (the
-- evolution table leaves it blank below) spans those rows, so that each row keeps its item.
local function label_columns(tbl)
  local count = 0
  local row = tbl.head.rows[1]
  for _, cell in ipairs(row and row.cells or {}) do
    if pandoc.utils.stringify(cell.contents) ~= "" then
      break
    end
    count = count + 1
  end
  return math.max(count, 1)
end

local function span_blank_labels(body)
  local anchor = nil
  for _, row in ipairs(body.body) do
    local first = row.cells[1]
    if anchor ~= nil and first ~= nil and pandoc.utils.stringify(first.contents) == "" then
      anchor.row_span = anchor.row_span + 1
      table.remove(row.cells, 1)
    else
      anchor = first
    end
  end
end

local function scope_headers(tbl)
  local labels = label_columns(tbl)
  for _, row in ipairs(tbl.head.rows) do
    for _, cell in ipairs(row.cells) do
      if pandoc.utils.stringify(cell.contents) ~= "" then
        cell.attributes.scope = "col"
      end
    end
  end
  for _, body in ipairs(tbl.bodies) do
    body.row_head_columns = labels
    if labels > 1 then
      span_blank_labels(body)
    end
    for _, row in ipairs(body.body) do
      local spanned = #row.cells < #tbl.colspecs and 1 or 0
      for i = 1, labels - spanned do
        if row.cells[i] ~= nil then
          row.cells[i].attributes.scope = "row"  -- with a rowspan, it heads the rows it spans
        end
      end
    end
  end
end

-- Typst reads "= ", "- ", "+ ", "/ " or "1. " at the start of a table cell as a
-- heading or a list item; pandoc's writer escapes them only at the start of a line.
-- A cell that starts so (a zone name from a parameter file) gets a Typst escape.
local function starts_block(inlines)
  local first, second = inlines[1], inlines[2]
  if first == nil or first.t ~= "Str" then
    return false
  end
  if first.text:match("^=") then
    return true
  end
  local marker = first.text == "-" or first.text == "+" or first.text == "/" or first.text:match("^%d+%.$") ~= nil
  return marker and (second == nil or second.t == "Space" or second.t == "SoftBreak")
end

local function escape_cell_start(cell)
  local block = cell.contents[1]
  if block ~= nil and (block.t == "Plain" or block.t == "Para") and starts_block(block.content) then
    block.content:insert(1, pandoc.RawInline("typst", "\\"))
  end
end

local function escape_cell_starts(tbl)
  for _, row in ipairs(tbl.head.rows) do
    for _, cell in ipairs(row.cells) do escape_cell_start(cell) end
  end
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.body) do
      for _, cell in ipairs(row.cells) do escape_cell_start(cell) end
    end
  end
end

-- HTML: a wide table scrolls inside its own box instead of widening the page. The box
-- is a named region reachable by keyboard (tabindex), so that it can be scrolled
-- without a mouse (WCAG 2.1.1).
local function scroll_box(tbl)
  local name = pandoc.utils.stringify(tbl.caption.long)
  local attributes = { { "role", "region" }, { "tabindex", "0" } }
  if name ~= "" then
    attributes[#attributes + 1] = { "aria-label", name }
  end
  return pandoc.Div({ tbl }, pandoc.Attr("", { "table-wrap" }, attributes))
end

function Table(tbl)
  if FORMAT ~= "typst" then
    scope_headers(tbl)
    return scroll_box(tbl)
  end
  escape_cell_starts(tbl)
  local shares = capped_shares(column_weights(tbl))
  for i, spec in ipairs(tbl.colspecs) do
    tbl.colspecs[i] = { spec[1], shares[i] }
  end
  return tbl
end

-- Typst only: pandoc's Typst writer drops an image's text alternative; pass it to
-- Typst's image(alt:) so that the tagged PDF describes each chart to screen readers.
local function typst_string(text)
  return '"' .. text:gsub("\\", "\\\\"):gsub('"', '\\"') .. '"'
end

local function image_with_alt(img)
  local alt = pandoc.utils.stringify(img.caption)
  if alt == "" then
    return nil
  end
  return pandoc.RawInline("typst", "#image(" .. typst_string(img.src) .. ", alt: " .. typst_string(alt) .. ")")
end

function Figure(figure)
  if FORMAT ~= "typst" then
    return nil
  end
  return figure:walk({ Image = image_with_alt })
end

-- HTML only: headings move one level down, the cover title being the page's one
-- `h1` (chapters `h2`, sections `h3`); render.py deepens the table of contents to match.
function Header(header)
  if FORMAT ~= "html5" and FORMAT ~= "html" then
    return nil
  end
  local chapter = header.level == 1
  header.level = header.level + 1
  if not is_demo or not chapter then
    return header
  end
  local notice = pandoc.Div(
    { pandoc.Plain({ pandoc.Str("Données fictives de démonstration") }) },
    pandoc.Attr("", { "demo-chapter" }, { { "role", "note" } })
  )
  return { header, notice }
end

return { { Meta = Meta }, { Div = Div, Header = Header, Table = Table, Figure = Figure } }

-- Pandoc program (`pandoc lua templates/render.lua`) that renders report after report.
--
-- One request per line on standard input, a JSON object:
--   markdown   the report's Markdown file (pandoc Markdown, smart quotes off)
--   metadata   an object of strings, lists of strings and booleans, given to the
--              templates as literal text (never read as Markdown; see literal_meta)
--   filter     the Lua filter applied to each edition (templates/report.lua)
--   editions   list of {format, template, variables, options, output, embed}
--              format: a pandoc writer ("typst", "html5"); options: writer options;
--              embed: the report's figures (figures/figure-NN.svg) become data URIs,
--              any other image is refused, and each `stylesheets` file is read into
--              the template variable `css` (one self-contained file).
-- One reply per line on standard output: {"ok": true} or {"error": "..."}.
--
-- Why a process that lives on: pandoc spends more time starting up, growing its
-- heap and reading its input formats than converting one report. The Markdown is
-- read once for every edition, and nothing but the request's own files is used,
-- so a report comes out the same whichever request of the process renders it.

local function read_file(path)
  local handle, message = io.open(path, "rb")
  if handle == nil then
    error(message, 0)
  end
  local text = handle:read("a")
  handle:close()
  return text
end

local function write_file(path, text)
  local handle, message = io.open(path, "wb")
  if handle == nil then
    error(message, 0)
  end
  handle:write(text)
  handle:close()
end

-- -smart: apostrophes and dashes print exactly as the notebook wrote them. A huge
-- column count keeps pipe tables at natural column widths (otherwise any table wider
-- than 72 characters gets equal-width columns from its dashes) and keeps the writers
-- from wrapping lines.
-- Raw HTML and TeX, citations and YAML blocks are off: the report's Markdown uses
-- none of them, so that a user string that got through unescaped would still be
-- text, not markup (user strings are escaped where they are written: abs_report.untrusted).
local READER = { format = "markdown-smart-raw_html-raw_tex-citations-yaml_metadata_block",
                 options = { columns = 10000 } }

-- The only images a report embeds: the charts the renderer wrote (abs_report.render).
local FIGURE_PATH = "^figures/figure%-%d+%.svg$"

-- A Typst string literal: "..." with its backslashes and quotes escaped.
local function typst_string(text)
  return '"' .. text:gsub("\\", "\\\\"):gsub('"', '\\"') .. '"'
end

-- Metadata values are user strings (title, recipient, zone names...): literal text.
-- Typst gets each as a string literal (#"..."), displayed as written: pandoc's Typst
-- writer does not escape "= " or "- " at the start of a content block ([$title$]),
-- where Typst would read a heading or a list. The other writers escape text.
local function literal_meta(value, format)
  if type(value) == "boolean" then
    return value
  end
  if type(value) == "table" then
    local items = {}
    for i, item in ipairs(value) do
      items[i] = literal_meta(item, format)
    end
    return pandoc.MetaList(items)
  end
  if format == "typst" then
    return pandoc.MetaInlines({ pandoc.RawInline("typst", "#" .. typst_string(tostring(value))) })
  end
  return pandoc.MetaInlines(pandoc.Inlines(tostring(value)))
end

local function with_metadata(doc, metadata, format)
  -- The given metadata wins over the document's own (the body has none); each
  -- edition sets every key again, and its filter works on a copy.
  for key, value in pairs(metadata or {}) do
    doc.meta[key] = literal_meta(value, format)
  end
  return doc
end

local function filtered(doc, filter, format)
  local env = setmetatable({ FORMAT = format }, { __index = _G })
  return pandoc.utils.run_lua_filter(doc:clone(), filter, env)
end

-- Images become data URIs in the written HTML, not in the document: the writer
-- would otherwise escape every character of every URI (40 ms a report).
-- Nothing but the report's own figures is read: any other reference (a local file,
-- a URL, a data URI) stops the render.
local function embed_images(html, folder)
  return (html:gsub('(<img[^>]-src=")([^"]*)(")', function(before, src, after)
    if not src:match(FIGURE_PATH) then
      error("image refusée : « " .. src .. " » n'est pas une figure du rapport", 0)
    end
    return before .. pandoc.mediabag.make_data_uri("image/svg+xml", read_file(pandoc.path.join({ folder, src })))
      .. after
  end))
end

local function write_edition(doc, edition, folder)
  local variables = edition.variables or {}
  if edition.embed then
    local sheets = {}
    for _, path in ipairs(edition.stylesheets or {}) do
      sheets[#sheets + 1] = read_file(path)
    end
    variables.css = sheets
  end
  local options = edition.options or {}
  options.template = pandoc.template.compile(read_file(edition.template), edition.template)
  options.variables = variables
  options.columns = options.columns or READER.options.columns
  local text = pandoc.write(doc, edition.format, options)
  if edition.embed then
    text = embed_images(text, folder)
  end
  write_file(edition.output, text)
end

local function handle(request)
  local folder = pandoc.path.directory(request.markdown)
  local doc = pandoc.read(read_file(request.markdown), READER.format, READER.options)
  for _, edition in ipairs(request.editions) do
    local edition_doc = with_metadata(doc, request.metadata, edition.format)
    write_edition(filtered(edition_doc, request.filter, edition.format), edition, folder)
  end
end

for line in io.lines() do
  local ok, result = pcall(function()
    return handle(pandoc.json.decode(line, false))
  end)
  local reply = ok and { ok = true } or { error = tostring(result) }
  io.stdout:write(pandoc.json.encode(reply), "\n")
  io.stdout:flush()
end

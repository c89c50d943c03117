-- Pandoc program (`pandoc lua templates/render.lua`) that renders report after report.
--
-- One request per line on standard input, a JSON object:
--   markdown   the report's Markdown file (pandoc Markdown, smart quotes off)
--   metadata   a YAML file; its values are read as Markdown, as --metadata-file does
--   filter     the Lua filter applied to each edition (templates/report.lua)
--   editions   list of {format, template, variables, options, output, embed}
--              format: a pandoc writer ("typst", "html5"); options: writer options;
--              embed: image files become data URIs and each `stylesheets` file is
--              read into the template variable `css` (one self-contained file).
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
local READER = { format = "markdown-smart", options = { columns = 10000 } }

local MIME_TYPES = { svg = "image/svg+xml", png = "image/png", jpg = "image/jpeg", jpeg = "image/jpeg" }

local function with_metadata(doc, metadata_file)
  -- --metadata-file semantics: the document's own metadata wins.
  local yaml = read_file(metadata_file)
  local meta = pandoc.read("---\n" .. yaml .. "\n...\n", READER.format, READER.options).meta
  for key, value in pairs(meta) do
    if doc.meta[key] == nil then
      doc.meta[key] = value
    end
  end
  return doc
end

local function filtered(doc, filter, format)
  local env = setmetatable({ FORMAT = format }, { __index = _G })
  return pandoc.utils.run_lua_filter(doc:clone(), filter, env)
end

-- Images become data URIs in the written HTML, not in the document: the writer
-- would otherwise escape every character of every URI (40 ms a report).
local function embed_images(html, folder)
  return (html:gsub('(<img[^>]-src=")([^"]+)(")', function(before, src, after)
    if src:match("^data:") then
      return nil
    end
    local extension = src:match("%.(%w+)$")
    local mime = MIME_TYPES[(extension or ""):lower()]
    if mime == nil then
      error("image d'un type non pris en charge : " .. src, 0)
    end
    return before .. pandoc.mediabag.make_data_uri(mime, read_file(pandoc.path.join({ folder, src }))) .. after
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
  doc = with_metadata(doc, request.metadata)
  for _, edition in ipairs(request.editions) do
    write_edition(filtered(doc, request.filter, edition.format), edition, folder)
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

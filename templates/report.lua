-- Pandoc filter for both editions of the report.
--  * Source lines ("Source : ...") written by the notebook under each table and chart
--    are set small and close to what they document (Typst: #source-note, HTML: div).
--  * HTML only: when the metadata has `demo: true`, every chapter repeats the
--    demonstration notice, so that a chapter linked or printed alone still says its
--    figures are fictitious (the PDF prints it on every page instead).

local is_demo = false

-- "Source : ..." or "Sources : ...", with a plain or a no-break space before the colon.
local function starts_with_source(inlines)
  if #inlines < 1 or inlines[1].t ~= "Str" then
    return false
  end
  local first = inlines[1].text
  if first == "Source" or first == "Sources" then
    return #inlines >= 3 and inlines[2].t == "Space"
      and inlines[3].t == "Str" and inlines[3].text:sub(1, 1) == ":"
  end
  -- U+00A0 and U+202F are the no-break spaces French typography puts before ":".
  return first:match("^Sources?\194\160:") ~= nil or first:match("^Sources?\226\128\175:") ~= nil
end

function Meta(meta)
  is_demo = meta.demo == true
end

function Para(para)
  if not starts_with_source(para.content) then
    return nil
  end
  if FORMAT == "typst" then
    return {
      pandoc.RawBlock("typst", "#source-note["),
      pandoc.Plain(para.content),
      pandoc.RawBlock("typst", "]"),
    }
  end
  return pandoc.Div({ pandoc.Para(para.content) }, pandoc.Attr("", { "source-note" }))
end

function Header(header)
  if FORMAT ~= "html5" and FORMAT ~= "html" then
    return nil
  end
  if not is_demo or header.level ~= 1 then
    return nil
  end
  local notice = pandoc.Div(
    { pandoc.Plain({ pandoc.Str("Données fictives de démonstration") }) },
    pandoc.Attr("", { "demo-chapter" }, { { "role", "note" } })
  )
  return { header, notice }
end

return { { Meta = Meta }, { Para = Para, Header = Header } }

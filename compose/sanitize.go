package compose

import (
	"net/url"
	"regexp"
	"sync"

	"github.com/microcosm-cc/bluemonday"
)

// SanitizeHTML returns an agent's HTML made safe to store, show and send.
// It applies the policy that Message.SafeHTML applies to customer mail
// (one construction serves both, so they stay in step): formatting,
// headings, lists, quotes, tables, links to http, https, mailto and tel,
// and images from cid: (inline parts) and base64 data: PNG, GIF, JPEG or
// WebP (pasted images, see ExtractDataImages) are kept; scripts and their
// content, event handlers, forms, frames, objects, embedded SVG and MathML,
// style elements, javascript: and every other URL scheme are removed, as
// are images from the network (a draft shown in the desk loads nothing
// from outside; embed images instead).
//
// The agent's HTML differs from the display of customer mail in what an
// agent's editor legitimately writes: inline styles are kept for a list of
// typographic and box properties whose values are checked (colour, font,
// alignment, margins, padding, borders, sizes; never a url() or an
// expression), class attributes are kept, and links are left as written
// (no nofollow, no new window).
//
// The result is a fixed point: sanitizing it again returns it unchanged, as
// does sanitizing the output of TextToHTML.
func SanitizeHTML(html string) string {
	if html == "" {
		return ""
	}
	return agentPolicy().Sanitize(html)
}

// basePolicy is what every HTML policy of the package allows: the elements
// and attributes of formatted mail, links and images that load nothing
// from the network. Everything not listed is dropped, the content of
// script and style elements included.
func basePolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowStandardAttributes()
	p.AllowElements("a", "abbr", "b", "big", "blockquote", "br", "caption",
		"center", "cite", "code", "col", "colgroup", "dd", "del", "div", "dl",
		"dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "ins",
		"kbd", "li", "ol", "p", "pre", "q", "s", "small", "span", "strike",
		"strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
		"tr", "tt", "u", "ul")
	p.AllowAttrs("align", "valign", "width", "height", "colspan", "rowspan",
		"border", "cellpadding", "cellspacing", "bgcolor", "color", "face",
		"size", "type").Globally()
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("http", "https", "mailto", "tel", "cid")
	// data: only for images (never data:text/html in a link).
	p.AllowURLSchemeWithCustomPolicy("data", func(u *url.URL) bool {
		return safeDataImage.MatchString(u.Opaque)
	})
	p.RequireParseableURLs(true)
	p.AllowAttrs("src").Matching(safeImageSrc).OnElements("img")
	p.AllowAttrs("alt", "title").OnElements("img")
	return p
}

// displayPolicy shows customer mail: links from strangers are marked
// nofollow and open in a new window. Built once on first use.
var displayPolicy = sync.OnceValue(func() *bluemonday.Policy {
	p := basePolicy()
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
})

// agentPolicy cleans what an agent writes. Built once on first use.
var agentPolicy = sync.OnceValue(func() *bluemonday.Policy {
	p := basePolicy()
	// bluemonday checks each value with its handler for the property;
	// none of these properties takes a url() or an expression.
	p.AllowStyles(agentStyles...).Globally()
	p.AllowAttrs("class").Matching(safeClass).Globally()
	return p
})

// agentStyles are the inline style properties kept in an agent's HTML.
// Properties that can load content (background, list-style-image, content,
// cursor) or move content over the page (position, z-index, display) are
// left out.
var agentStyles = []string{
	"color", "background-color",
	"font-family", "font-size", "font-style", "font-weight", "font-variant",
	"text-align", "text-decoration", "text-indent", "text-transform",
	"line-height", "letter-spacing", "word-spacing", "white-space",
	"vertical-align", "list-style-type",
	"margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
	"padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
	"border", "border-top", "border-right", "border-bottom", "border-left",
	"border-color", "border-style", "border-width", "border-collapse",
	"border-spacing", "border-radius",
	"width", "height", "max-width", "min-width",
}

// safeDataImage matches the opaque part of an image data: URL.
var safeDataImage = regexp.MustCompile(`(?i)^image/(png|gif|jpe?g|webp);base64,`)

// safeImageSrc admits only sources that load nothing from the network.
var safeImageSrc = regexp.MustCompile(`(?i)^(cid:[^\s]+|data:image/(png|gif|jpe?g|webp);base64,[a-z0-9+/=\s]+)$`)

// safeClass admits class lists of plain names.
var safeClass = regexp.MustCompile(`^[A-Za-z0-9_ -]+$`)

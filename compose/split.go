package compose

import (
	"regexp"
	"strings"
)

// attributionRes match a reply attribution line, possibly wrapped over a few
// lines and joined with spaces: English and Apple Mail / Thunderbird / Gmail
// ("On … wrote:"), French ("Le … a écrit :"), German ("Am … schrieb …:"),
// Spanish ("El … escribió:").
var attributionRes = []*regexp.Regexp{
	regexp.MustCompile(`^On\s.*\S.*wrote\s?:\s*$`),
	regexp.MustCompile(`^Le\s.*\S.*a\s+écrit\s*:\s*$`),
	regexp.MustCompile(`^Am\s.*\S.*schrieb.*:\s*$`),
	regexp.MustCompile(`^El\s.*\S.*escribió\s*:\s*$`),
}

// separatorRe matches "-----Original Message-----" and its relatives.
var separatorRe = regexp.MustCompile(`(?i)^\s*[-_]{2,}\s*(original message|message d'origine|ursprüngliche nachricht|mensaje original|forwarded message|message transféré|weitergeleitete nachricht|mensaje reenviado|mensagem original)\s*[-_]{2,}\s*$`)

// fromKeys and sentKeys start an Outlook-style header block ("From: … Sent:
// …", "De : … Envoyé : …", "Von: … Gesendet: …", "De: … Enviado el: …").
var (
	fromKeys = []string{"from", "de", "von", "van", "da", "från", "fra"}
	sentKeys = []string{"sent", "date", "envoyé", "envoyé le", "gesendet", "datum", "enviado", "enviado el", "fecha", "verzonden", "inviato", "data", "skickat", "sendt"}
)

// SplitQuoted splits a plain-text reply into the writer's new text and the
// quoted history. It recognizes "On … wrote:" attributions in English,
// French, German and Spanish (Gmail, Apple Mail, Thunderbird), lines quoted
// with ">", Outlook's "-----Original Message-----" and "From: … Sent: …"
// blocks in several languages (also after a line of underscores), and
// forwarded-message separators. Everything after an Outlook-style block is
// history; with ">" quoting, replies written between quoted passages stay in
// newText. Both results are trimmed; quoted is "" when nothing was quoted.
func SplitQuoted(text string) (newText, quoted string) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lines := strings.Split(text, "\n")
	q := make([]bool, len(lines))
	for i := 0; i < len(lines); i++ {
		if isQuoteLine(lines[i]) {
			q[i] = true
			continue
		}
		if start := headerBlock(lines, i); start >= 0 {
			for j := start; j < len(lines); j++ {
				q[j] = true
			}
			break
		}
		if n := attributionLines(lines, i); n > 0 {
			for j := i; j < i+n; j++ {
				q[j] = true
			}
			i += n - 1
		}
	}
	// Blank lines between two quoted lines belong to the quote.
	last := -1
	for i, l := range lines {
		if strings.TrimSpace(l) != "" {
			if q[i] && last >= 0 && q[last] {
				for j := last + 1; j < i; j++ {
					q[j] = true
				}
			}
			last = i
		}
	}
	var nb, qb strings.Builder
	for i, l := range lines {
		if q[i] {
			qb.WriteString(l)
			qb.WriteByte('\n')
		} else {
			nb.WriteString(l)
			nb.WriteByte('\n')
		}
	}
	return collapseBlank(nb.String()), strings.TrimSpace(qb.String())
}

// collapseBlank trims s and keeps at most two blank lines in a row.
func collapseBlank(s string) string {
	s = strings.TrimSpace(s)
	for strings.Contains(s, "\n\n\n\n") {
		s = strings.ReplaceAll(s, "\n\n\n\n", "\n\n\n")
	}
	return s
}

func isQuoteLine(l string) bool {
	return strings.HasPrefix(strings.TrimLeft(l, " "), ">")
}

// attributionLines returns how many lines (1 to 3) starting at i form an
// attribution line, or 0.
func attributionLines(lines []string, i int) int {
	first := strings.TrimSpace(lines[i])
	if len(first) < 3 || !(strings.HasPrefix(first, "On ") || strings.HasPrefix(first, "Le ") ||
		strings.HasPrefix(first, "Am ") || strings.HasPrefix(first, "El ")) {
		return 0
	}
	joined := first
	for n := 1; n <= 3 && i+n <= len(lines); n++ {
		if n > 1 {
			next := strings.TrimSpace(lines[i+n-1])
			if next == "" || isQuoteLine(next) {
				return 0
			}
			joined += " " + next
		}
		if len(joined) > 400 {
			return 0
		}
		for _, re := range attributionRes {
			if re.MatchString(joined) {
				return n
			}
		}
	}
	return 0
}

// headerBlock reports whether an Outlook-style header block or a separator
// starts at line i, and returns the first line of the history (a separator
// line of dashes or underscores just above is included), else -1.
func headerBlock(lines []string, i int) int {
	l := strings.TrimSpace(lines[i])
	if l == "" {
		return -1
	}
	if separatorRe.MatchString(l) || strings.EqualFold(l, "Begin forwarded message:") {
		return i
	}
	if !hasFieldKey(l, fromKeys) {
		return -1
	}
	found := false
	for j := i + 1; j < len(lines) && j <= i+4; j++ {
		if hasFieldKey(strings.TrimSpace(lines[j]), sentKeys) {
			found = true
			break
		}
	}
	if !found {
		return -1
	}
	start := i
	for j := i - 1; j >= 0; j-- {
		t := strings.TrimSpace(lines[j])
		if t == "" {
			continue
		}
		if isRule(t) {
			start = j
		}
		break
	}
	return start
}

// hasFieldKey reports whether l starts with one of keys followed by a colon,
// allowing bold markers ("*From:*") and French spacing ("De :").
func hasFieldKey(l string, keys []string) bool {
	l = strings.TrimLeft(l, "*")
	colon := strings.IndexAny(l, ":：")
	if colon <= 0 || colon > 20 {
		return false
	}
	k := strings.ToLower(strings.TrimSpace(strings.TrimRight(l[:colon], "* ")))
	for _, key := range keys {
		if k == key {
			return true
		}
	}
	return false
}

// isRule reports whether l is a line of dashes or underscores.
func isRule(l string) bool {
	if len(l) < 5 {
		return false
	}
	for _, c := range l {
		if c != '-' && c != '_' && c != ' ' {
			return false
		}
	}
	return true
}

// htmlQuoteMarkers start the quoted history in HTML replies: Gmail, Outlook
// (web and desktop), Apple Mail and Thunderbird, Yahoo.
var htmlQuoteMarkers = []string{
	`<div class="gmail_quote`,
	`<div id="divRplyFwdMsg"`,
	`<div id="appendonsend"`,
	`<hr id="stopSpelling"`,
	`<div class="moz-cite-prefix"`,
	`<blockquote type="cite"`,
	`<div class="yahoo_quoted"`,
	`<div style="border:none;border-top:solid #E1E1E1 1.0pt`,
	`<div style="border:none;border-top:solid #B5C4DF 1.0pt`,
}

// SplitQuotedHTML splits an HTML reply at the first quoted-history marker:
// Gmail's gmail_quote, Outlook's divRplyFwdMsg / appendonsend / top-bordered
// header block, Apple Mail's and Thunderbird's blockquote type="cite" and
// moz-cite-prefix, Yahoo's yahoo_quoted. Without a marker quoted is "".
func SplitQuotedHTML(html string) (newHTML, quoted string) {
	lower := strings.ToLower(html)
	cut := -1
	for _, m := range htmlQuoteMarkers {
		if i := strings.Index(lower, strings.ToLower(m)); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	if cut < 0 {
		return html, ""
	}
	return html[:cut], html[cut:]
}

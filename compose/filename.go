package compose

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxFilenameBytes bounds the length of the names SafeFilename returns: 255
// bytes, what most file systems take for one path element.
const MaxFilenameBytes = 255

// DefaultFilename is what SafeFilename returns when nothing usable is left
// of a name.
const DefaultFilename = "attachment"

// SafeFilename returns a file name that can be shown and saved without
// lying about the file or escaping a directory: the last path element only
// (after the last "/" or "\"), without control, bidirectional or other
// invisible formatting characters (a right-to-left override shows
// "invoice_fdp.exe" as "invoice_exe.pdf"), without the characters Windows
// refuses in names (<>:"|?*, replaced by "_"), without leading dots and
// trailing dots or spaces, not a Windows device name (CON, NUL, COM1...),
// valid UTF-8, and at most MaxFilenameBytes long, its extension kept when
// it is cut. A name with nothing usable left gives DefaultFilename.
//
// Parse and the Workspace give every attachment this name; the name as the
// sender wrote it is kept apart (Attachment.OriginalFilename) for display
// on request only.
func SafeFilename(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	if !utf8.ValidString(name) {
		name = strings.ToValidUTF8(name, "_")
	}
	if strings.IndexFunc(name, unsafeFilenameRune) >= 0 {
		name = strings.Map(func(r rune) rune {
			switch {
			case strings.ContainsRune(`<>:"|?*`, r):
				return '_'
			case unsafeFilenameRune(r):
				return -1
			}
			return r
		}, name)
	}
	name = strings.TrimFunc(name, spaceOrDot)
	if windowsDevice(name) {
		name = "_" + name
	}
	if name = cutFilename(name, MaxFilenameBytes); name == "" {
		return DefaultFilename
	}
	return name
}

// spaceOrDot is what a name may not start or end with: a leading dot hides
// a file or climbs a directory, Windows drops trailing dots and spaces.
func spaceOrDot(r rune) bool { return r == '.' || unicode.IsSpace(r) }

// unsafeFilenameRune reports the runes SafeFilename drops or replaces:
// control characters, formatting characters (bidirectional overrides and
// isolates, zero-width marks), line and paragraph separators, and the
// characters Windows refuses in names.
func unsafeFilenameRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r < ' ' || r == 0x7f || strings.ContainsRune(`<>:"|?*`, r)
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r)
}

// cutFilename shortens name to at most max bytes on a rune boundary,
// keeping a short extension.
func cutFilename(name string, max int) string {
	if len(name) <= max {
		return name
	}
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i > 0 && len(name)-i <= 16 {
		name, ext = name[:i], name[i:]
	}
	keep := max - len(ext)
	for keep > 0 && !utf8.RuneStart(name[keep]) {
		keep--
	}
	return strings.TrimRightFunc(name[:keep], spaceOrDot) + ext
}

// windowsDevice reports a name Windows takes for a device whatever its
// extension: CON, PRN, AUX, NUL, COM1-COM9, LPT1-LPT9.
func windowsDevice(name string) bool {
	base, _, _ := strings.Cut(name, ".")
	base = strings.TrimRight(base, " ")
	switch strings.ToUpper(base) {
	case "CON", "PRN", "AUX", "NUL":
		return true
	}
	if len(base) == 4 {
		up := strings.ToUpper(base[:3])
		return (up == "COM" || up == "LPT") && base[3] >= '1' && base[3] <= '9'
	}
	return false
}

// SetFilename sets the attachment's name to SafeFilename(name), keeping
// name in OriginalFilename when it differs. An empty name stays empty.
func (a *Attachment) SetFilename(name string) {
	a.Filename, a.OriginalFilename = "", ""
	if name == "" {
		return
	}
	a.Filename = SafeFilename(name)
	if a.Filename != name {
		a.OriginalFilename = name
	}
}

// subjectFilename names a message attachment after its subject: the subject,
// its slashes turned into "_", cut to 100 bytes, with ".eml"; fallback.eml
// when no subject is left.
func subjectFilename(subject, fallback string) string {
	s := strings.TrimFunc(strings.NewReplacer("/", "_", `\`, "_").Replace(subject), spaceOrDot)
	if s == "" {
		s = fallback
	}
	return SafeFilename(cutFilename(s, 100) + ".eml")
}

package compose

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/net/html"
)

// DefaultMaxImageSize is the largest image ExtractDataImages accepts when
// ImageOptions leaves MaxSize zero: 5 MiB decoded.
const DefaultMaxImageSize = 5 << 20

// DefaultMaxImages is how many distinct images ExtractDataImages accepts
// when ImageOptions leaves MaxImages zero (the attachment limit of the
// usual contact-centre mail services).
const DefaultMaxImages = 50

// ImageOptions configures ExtractDataImages. A nil *ImageOptions or a zero
// field means the default.
type ImageOptions struct {
	// MaxSize is the largest decoded image in bytes; default
	// DefaultMaxImageSize.
	MaxSize int64
	// MaxImages is the most distinct images; default DefaultMaxImages.
	MaxImages int
	// Hostname is the right-hand side of the Content-IDs; default
	// "localhost", as for Message-IDs in Render.
	Hostname string
}

// ImageError says why ExtractDataImages refused an image. It wraps
// ErrTooLarge for an image over the size limit or one image too many, and
// ErrInvalidInput for anything else: a data: URL that is not a base64 PNG,
// GIF, JPEG or WebP image, bad base64, or bytes that are not the declared
// image type.
type ImageError struct {
	// Index is the image's position among the img elements with a data:
	// source, from 0.
	Index int
	// ContentType is the media type the data: URL declares.
	ContentType string
	// Size is the decoded size in bytes, or an estimate from the encoded
	// length when the image was refused before decoding; 0 when unknown.
	Size int64
	// Reason says what is wrong, in words.
	Reason string

	err error
}

// Error returns the reason with the image's position.
func (e *ImageError) Error() string {
	return fmt.Sprintf("%v: image %d (%s): %s", e.err, e.Index, e.ContentType, e.Reason)
}

// Unwrap returns ErrTooLarge or ErrInvalidInput.
func (e *ImageError) Unwrap() error { return e.err }

// ExtractDataImages turns the images that htm embeds as data: URLs
// (what a browser's editor makes of a pasted image) into inline
// attachments: each distinct image becomes an Attachment with a fresh
// Content-ID, Inline set, a file name such as "image1.png", its type and
// its bytes, and the src of every img element showing it becomes
// "cid:<Content-ID>". Put the attachments in a Draft with the returned
// HTML and Render writes them in a multipart/related part beside it.
//
// Only PNG, GIF, JPEG and WebP in base64 are accepted (the images
// SanitizeHTML keeps), and the bytes must be what the URL declares. The
// same image shown twice becomes one attachment. Everything else of htm
// is returned byte for byte as it was; HTML without data: images is
// returned unchanged with no attachments.
//
// On error nothing is returned but the error: an *ImageError (wrapping
// ErrTooLarge or ErrInvalidInput) for a refused image, or an error
// wrapping ErrInvalidInput for an invalid Hostname.
func ExtractDataImages(htm string, opts *ImageOptions) (string, []Attachment, error) {
	o := ImageOptions{MaxSize: DefaultMaxImageSize, MaxImages: DefaultMaxImages, Hostname: "localhost"}
	if opts != nil {
		if opts.MaxSize > 0 {
			o.MaxSize = opts.MaxSize
		}
		if opts.MaxImages > 0 {
			o.MaxImages = opts.MaxImages
		}
		if opts.Hostname != "" {
			o.Hostname = opts.Hostname
		}
	}
	if hasCRLF(o.Hostname) || strings.ContainsAny(o.Hostname, " \t<>@\"\\") || !printableASCII(o.Hostname) {
		return "", nil, invalid("hostname %q", o.Hostname)
	}
	if !containsFold(htm, "data:") {
		return htm, nil, nil
	}
	var (
		out   strings.Builder
		atts  []Attachment
		seen  = map[[sha256.Size]byte]string{} // image digest → Content-ID
		index = 0
	)
	out.Grow(len(htm) / 4)
	z := html.NewTokenizer(strings.NewReader(htm))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				return "", nil, invalid("reading HTML: %v", z.Err())
			}
			// A tag cut short by the end of the input is no token: keep
			// its text as it was.
			out.Write(z.Raw())
			return out.String(), atts, nil
		}
		raw := z.Raw()
		if (tt != html.StartTagToken && tt != html.SelfClosingTagToken) || !isImgTag(raw) {
			out.Write(raw)
			continue
		}
		rawCopy := string(raw)
		tok := z.Token()
		at := -1
		for i, a := range tok.Attr {
			if a.Namespace == "" && a.Key == "src" && hasPrefixFold(strings.TrimSpace(a.Val), "data:") {
				at = i
			}
		}
		if at < 0 {
			out.WriteString(rawCopy)
			continue
		}
		ctype, data, err := decodeDataImage(strings.TrimSpace(tok.Attr[at].Val), o.MaxSize)
		if err != nil {
			err.Index = index
			return "", nil, err
		}
		index++
		sum := sha256.Sum256(data)
		cid, ok := seen[sum]
		if !ok {
			if len(atts) == o.MaxImages {
				return "", nil, &ImageError{Index: index - 1, ContentType: ctype, Size: int64(len(data)),
					Reason: "more than " + strconv.Itoa(o.MaxImages) + " images", err: ErrTooLarge}
			}
			cid = newContentID(o.Hostname)
			seen[sum] = cid
			atts = append(atts, Attachment{
				Filename:    "image" + strconv.Itoa(len(atts)+1) + imageExt[ctype],
				ContentType: ctype,
				ContentID:   cid,
				Inline:      true,
				Size:        int64(len(data)),
				Data:        data,
			})
		}
		tok.Attr[at].Val = "cid:" + cid
		out.WriteString(tok.String())
	}
}

// imageExt gives the file name extension of the accepted image types.
var imageExt = map[string]string{"image/png": ".png", "image/gif": ".gif", "image/jpeg": ".jpg", "image/webp": ".webp"}

// decodeDataImage decodes a data: URL of an accepted image type.
func decodeDataImage(src string, max int64) (string, []byte, *ImageError) {
	meta, payload, ok := strings.Cut(src[len("data:"):], ",")
	params := strings.Split(meta, ";")
	ctype := strings.ToLower(strings.TrimSpace(params[0]))
	if ctype == "image/jpg" || ctype == "image/pjpeg" {
		ctype = "image/jpeg"
	}
	fail := func(size int64, err error, format string, args ...any) (string, []byte, *ImageError) {
		return "", nil, &ImageError{ContentType: ctype, Size: size, Reason: fmt.Sprintf(format, args...), err: err}
	}
	if !ok {
		return fail(0, ErrInvalidInput, "data: URL without a comma")
	}
	if _, known := imageExt[ctype]; !known {
		return fail(0, ErrInvalidInput, "not a PNG, GIF, JPEG or WebP image")
	}
	if !strings.EqualFold(strings.TrimSpace(params[len(params)-1]), "base64") {
		return fail(0, ErrInvalidInput, "not base64")
	}
	payload = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' {
			return -1
		}
		return r
	}, payload)
	if est := int64(len(payload)) / 4 * 3; est > max+3 {
		return fail(est, ErrTooLarge, "over %d bytes", max)
	}
	enc := base64.StdEncoding
	if !strings.HasSuffix(payload, "=") && len(payload)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	data, err := enc.DecodeString(payload)
	if err != nil {
		return fail(0, ErrInvalidInput, "bad base64: %v", err)
	}
	if int64(len(data)) > max {
		return fail(int64(len(data)), ErrTooLarge, "over %d bytes", max)
	}
	if sniffImage(data) != ctype {
		return fail(int64(len(data)), ErrInvalidInput, "the data is not a %s image", ctype)
	}
	return ctype, data, nil
}

// sniffImage returns the image type that data's signature shows, or "".
func sniffImage(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return "image/gif"
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return "image/jpeg"
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return "image/webp"
	}
	return ""
}

// newContentID returns "img.<random>@host".
func newContentID(host string) string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return "img." + base32NoPad(b[:]) + "@" + host
}

// isImgTag reports whether the raw start tag is an img element.
func isImgTag(raw []byte) bool {
	if len(raw) < 5 || !strings.EqualFold(string(raw[1:4]), "img") {
		return false
	}
	switch raw[4] {
	case ' ', '\t', '\n', '\r', '\f', '/', '>':
		return true
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func containsFold(s, needle string) bool { return indexFold(s, needle) >= 0 }

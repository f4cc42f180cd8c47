package compose

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/mail"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testImage encodes a small picture in the format named.
func testImage(t testing.TB, format string) []byte {
	t.Helper()
	img := image.NewPaletted(image.Rect(0, 0, 4, 3), color.Palette{color.White, color.RGBA{200, 0, 0, 255}})
	img.SetColorIndex(1, 1, 1)
	var b bytes.Buffer
	switch format {
	case "png":
		require.NoError(t, png.Encode(&b, img))
	case "gif":
		require.NoError(t, gif.Encode(&b, img, nil))
	case "jpeg":
		require.NoError(t, jpeg.Encode(&b, img, nil))
	case "webp":
		// A lossless WebP header and a few bytes: only the signature is
		// looked at.
		b.WriteString("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")
	}
	return b.Bytes()
}

func dataURL(ctype string, data []byte) string {
	return "data:" + ctype + ";base64," + base64.StdEncoding.EncodeToString(data)
}

var cidSrc = regexp.MustCompile(`src="cid:([^"]+)"`)

func TestExtractDataImages(t *testing.T) {
	pngData, gifData, jpegData, webpData := testImage(t, "png"), testImage(t, "gif"), testImage(t, "jpeg"), testImage(t, "webp")
	wrapped := base64.StdEncoding.EncodeToString(pngData)
	wrapped = wrapped[:20] + "\r\n " + wrapped[20:]
	tests := []struct {
		name     string
		in       string
		opts     *ImageOptions
		types    []string // content types of the attachments, in order
		files    []string
		cids     int    // img elements pointing at a cid:
		keep     string // a piece of the input that must come out as it was
		tooLarge bool
		invalid  bool
		reason   string
	}{
		{name: "no images", in: `<p>Hello <IMG SRC="cid:x@y"> <img src="https://acme.test/logo.png"></p>`, keep: `<p>Hello <IMG SRC="cid:x@y"> <img src="https://acme.test/logo.png"></p>`},
		{name: "png", in: `<p>Voici:</p><img alt="capture" src="` + dataURL("image/png", pngData) + `" width="4">`, types: []string{"image/png"}, files: []string{"image1.png"}, cids: 1, keep: "<p>Voici:</p>"},
		{name: "every accepted type", in: `<img src="` + dataURL("image/gif", gifData) + `"><img src='` + dataURL("image/jpeg", jpegData) + `'/><IMG SRC=` + dataURL("IMAGE/WEBP", webpData) + `>`,
			types: []string{"image/gif", "image/jpeg", "image/webp"}, files: []string{"image1.gif", "image2.jpg", "image3.webp"}, cids: 3},
		{name: "jpg alias", in: `<img src="` + dataURL("image/jpg", jpegData) + `">`, types: []string{"image/jpeg"}, files: []string{"image1.jpg"}, cids: 1},
		{name: "wrapped base64", in: `<img src="data:image/png;base64,` + wrapped + `">`, types: []string{"image/png"}, files: []string{"image1.png"}, cids: 1},
		{name: "same image twice is one part", in: `<img src="` + dataURL("image/png", pngData) + `"><p>and again</p><img src="` + dataURL("image/png", pngData) + `">`,
			types: []string{"image/png"}, files: []string{"image1.png"}, cids: 2, keep: "<p>and again</p>"},
		{name: "data outside img is left", in: `<a href="` + dataURL("image/png", pngData) + `">x</a>`, keep: `<a href="` + dataURL("image/png", pngData) + `">x</a>`},
		{name: "html is refused", in: `<img src="data:text/html;base64,PHNjcmlwdD4=">`, invalid: true, reason: "not a PNG"},
		{name: "svg is refused", in: `<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">`, invalid: true, reason: "not a PNG"},
		{name: "not base64", in: `<img src="data:image/png,%89PNG">`, invalid: true, reason: "not base64"},
		{name: "no comma", in: `<img src="data:image/png;base64">`, invalid: true, reason: "without a comma"},
		{name: "bad base64", in: `<img src="data:image/png;base64,@@@@">`, invalid: true, reason: "bad base64"},
		{name: "bytes are not the declared type", in: `<img src="` + dataURL("image/png", jpegData) + `">`, invalid: true, reason: "not a image/png image"},
		{name: "html behind an image type", in: `<img src="` + dataURL("image/gif", []byte("<script>alert(1)</script>")) + `">`, invalid: true, reason: "not a image/gif image"},
		{name: "over the size limit", in: `<img src="` + dataURL("image/png", pngData) + `">`, opts: &ImageOptions{MaxSize: int64(len(pngData) - 1)}, tooLarge: true, reason: "over"},
		{name: "far over the size limit, refused before decoding", in: `<img src="data:image/png;base64,` + strings.Repeat("A", 4000) + `">`, opts: &ImageOptions{MaxSize: 100}, tooLarge: true, reason: "over 100 bytes"},
		{name: "at the size limit", in: `<img src="` + dataURL("image/png", pngData) + `">`, opts: &ImageOptions{MaxSize: int64(len(pngData))}, types: []string{"image/png"}, files: []string{"image1.png"}, cids: 1},
		{name: "too many images", in: `<img src="` + dataURL("image/png", pngData) + `"><img src="` + dataURL("image/gif", gifData) + `">`, opts: &ImageOptions{MaxImages: 1}, tooLarge: true, reason: "more than 1 images"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, atts, err := ExtractDataImages(tt.in, tt.opts)
			if tt.tooLarge || tt.invalid {
				var ie *ImageError
				require.ErrorAs(t, err, &ie)
				if tt.tooLarge {
					assert.ErrorIs(t, err, ErrTooLarge)
				} else {
					assert.ErrorIs(t, err, ErrInvalidInput)
				}
				assert.Contains(t, err.Error(), tt.reason)
				assert.Empty(t, out)
				assert.Nil(t, atts)
				return
			}
			require.NoError(t, err)
			assert.NotContains(t, strings.ToLower(out), `src="data:`)
			if tt.keep != "" {
				assert.Contains(t, out, tt.keep)
			}
			var types, files []string
			for _, a := range atts {
				types, files = append(types, a.ContentType), append(files, a.Filename)
				assert.True(t, a.Inline)
				assert.Equal(t, int64(len(a.Data)), a.Size)
				assert.True(t, validContentID(a.ContentID), a.ContentID)
				assert.True(t, strings.HasSuffix(a.ContentID, "@localhost"), a.ContentID)
				assert.Contains(t, out, `src="cid:`+a.ContentID+`"`)
			}
			assert.Equal(t, tt.types, types)
			assert.Equal(t, tt.files, files)
			assert.Equal(t, tt.cids, len(cidSrc.FindAllString(out, -1))-len(cidSrc.FindAllString(tt.in, -1)), "img elements rewritten")
		})
	}
}

func TestExtractDataImagesContentIDs(t *testing.T) {
	png := testImage(t, "png")
	in := `<img src="` + dataURL("image/png", png) + `">`
	_, a1, err := ExtractDataImages(in, &ImageOptions{Hostname: "desk.acme.test"})
	require.NoError(t, err)
	_, a2, err := ExtractDataImages(in, &ImageOptions{Hostname: "desk.acme.test"})
	require.NoError(t, err)
	require.Len(t, a1, 1)
	require.Len(t, a2, 1)
	assert.NotEqual(t, a1[0].ContentID, a2[0].ContentID, "fresh for every call")
	assert.Regexp(t, `^img\.[a-z2-7]+@desk\.acme\.test$`, a1[0].ContentID)
	assert.Equal(t, png, a1[0].Data)

	for _, host := range []string{"a b", "x\r\nBcc: v@x.test", "a@b", "<h>", "é.test"} {
		_, _, err := ExtractDataImages(in, &ImageOptions{Hostname: host})
		assert.ErrorIs(t, err, ErrInvalidInput, host)
	}
}

// TestExtractDataImagesRender: a draft with the extracted images renders
// as multipart/related, and parsing it gives the inline part back with the
// HTML pointing at it.
func TestExtractDataImagesRender(t *testing.T) {
	pngData := testImage(t, "png")
	agentHTML := `<p>Bonjour,</p><p>voici la capture :</p><img alt="capture" src="` + dataURL("image/png", pngData) + `"><p>Cordialement</p>`
	htm, atts, err := ExtractDataImages(SanitizeHTML(agentHTML), &ImageOptions{Hostname: "acme.test"})
	require.NoError(t, err)
	require.Len(t, atts, 1)
	d := New(testFrom, []mail.Address{{Address: "ana@example.test"}}, "Votre colis", "")
	d.HTML = htm
	d.Attachments = atts
	raw, err := Render(d, &RenderOptions{Hostname: "acme.test"})
	require.NoError(t, err)
	assert.Contains(t, string(raw), `multipart/related; type="text/html"`)
	assert.Contains(t, string(raw), "Content-ID: <"+atts[0].ContentID+">")

	m, err := ParseBytes(raw, nil)
	require.NoError(t, err)
	assert.Empty(t, m.Warnings)
	require.Len(t, m.Attachments, 1)
	got := m.Attachments[0]
	assert.True(t, got.Inline)
	assert.Equal(t, "image/png", got.ContentType)
	assert.Equal(t, atts[0].ContentID, got.ContentID)
	assert.Equal(t, "image1.png", got.Filename)
	assert.Equal(t, pngData, got.Data)
	assert.Contains(t, m.HTML, `src="cid:`+got.ContentID+`"`)
	assert.Contains(t, m.SafeHTML(), `src="cid:`+got.ContentID+`"`, "the customer's view shows it too")
	assert.Contains(t, m.Text, "voici la capture", "the text alternative is made from the HTML")
}

// FuzzExtractDataImages: no panic; on success no img keeps a data: source,
// every attachment is referenced, and HTML without attachments comes back
// unchanged.
func FuzzExtractDataImages(f *testing.F) {
	png := testImage(f, "png")
	f.Add(`<p>x</p><img src="` + dataURL("image/png", png) + `">`)
	f.Add(`<img src="data:text/html;base64,PHA+">`)
	f.Add(`<img src=data:image/gif;base64,R0lGODlh><IMG/SRC="DATA:image/png;base64,">`)
	f.Add(`<!-- <img src="data:image/png;base64,AA"> --><script>"<img src='data:'>"</script>`)
	f.Fuzz(func(t *testing.T, in string) {
		out, atts, err := ExtractDataImages(in, &ImageOptions{MaxSize: 1 << 16, MaxImages: 4})
		if err != nil {
			assert.Empty(t, out)
			assert.Nil(t, atts)
			return
		}
		if len(atts) == 0 {
			assert.Equal(t, in, out)
			return
		}
		for _, a := range atts {
			assert.Contains(t, out, "cid:"+a.ContentID)
			assert.Equal(t, a.ContentType, sniffImage(a.Data))
		}
	})
}

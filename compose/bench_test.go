package compose

import (
	"bytes"
	"os"
	"testing"
)

func loadCorpus(b *testing.B) ([][]byte, int64) {
	b.Helper()
	var msgs [][]byte
	var total int64
	for _, f := range corpusFiles(b) {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, data)
		total += int64(len(data))
	}
	return msgs, total
}

// BenchmarkParse parses the whole enmime corpus in memory.
func BenchmarkParse(b *testing.B) {
	msgs, total := loadCorpus(b)
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range msgs {
			if _, err := Parse(bytes.NewReader(m), nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkParseStreaming parses the corpus streaming attachments to a
// BlobStore.
func BenchmarkParseStreaming(b *testing.B) {
	msgs, total := loadCorpus(b)
	b.SetBytes(total)
	b.ReportAllocs()
	opts := &ParseOptions{Blobs: &memBlobs{}}
	for b.Loop() {
		for _, m := range msgs {
			if _, err := Parse(bytes.NewReader(m), opts); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkParseReplyRender is one inbound message answered: Parse, Reply,
// Render. The Workspace lifecycle benchmark compares itself with it.
func BenchmarkParseReplyRender(b *testing.B) {
	raw := []byte(crlf(goldenOriginal))
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	opts := &ReplyOptions{From: testFrom}
	for b.Loop() {
		m, err := Parse(bytes.NewReader(raw), nil)
		if err != nil {
			b.Fatal(err)
		}
		d := Reply(m, opts)
		if _, err := Render(d, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRender renders a reply with HTML and an attachment.
func BenchmarkRender(b *testing.B) {
	d := baseDraft()
	d.HTML = "<p>Bonjour Françoise,</p><p>C'est réglé.</p>"
	d.Attachments = []Attachment{{Filename: "facture.pdf", ContentType: "application/pdf", Data: bytes.Repeat([]byte("%PDF-1.4 "), 2000)}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(d, nil); err != nil {
			b.Fatal(err)
		}
	}
}

package bench

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/emailflow/emailflow/compose"
	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset"
	"github.com/jhillyerd/enmime/v2"
)

// corpus loads every message of the enmime corpus copied in compose/testdata.
func corpus(b *testing.B) ([][]byte, int64) {
	b.Helper()
	files, err := filepath.Glob("../compose/testdata/enmime/*/*.raw")
	if err != nil || len(files) == 0 {
		b.Fatalf("no corpus: %v", err)
	}
	var msgs [][]byte
	var total int64
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, data)
		total += int64(len(data))
	}
	return msgs, total
}

// BenchmarkCompose parses the corpus with compose.Parse.
func BenchmarkCompose(b *testing.B) {
	msgs, total := corpus(b)
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range msgs {
			if _, err := compose.Parse(bytes.NewReader(m), nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkEnmime parses the corpus with enmime.ReadEnvelope.
func BenchmarkEnmime(b *testing.B) {
	msgs, total := corpus(b)
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range msgs {
			_, _ = enmime.ReadEnvelope(bytes.NewReader(m))
		}
	}
}

// BenchmarkGoMessageWalk reads every part of the corpus with go-message and
// nothing else: the floor any go-message based parser stands on.
func BenchmarkGoMessageWalk(b *testing.B) {
	msgs, total := corpus(b)
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range msgs {
			e, err := message.Read(bytes.NewReader(m))
			if e == nil {
				_ = err
				continue
			}
			_ = e.Walk(func(_ []int, part *message.Entity, _ error) error {
				if part.MultipartReader() == nil {
					_, _ = io.Copy(io.Discard, part.Body)
				}
				return nil
			})
		}
	}
}

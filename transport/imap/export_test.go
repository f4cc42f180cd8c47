package imap

import (
	"time"

	"github.com/emersion/go-imap/v2"
)

// Internals for the tests of package imap_test.

var IsLoopback = isLoopback

// Backoff returns the successive waits of a backoff from min to max.
func Backoff(min, max time.Duration) (next func() time.Duration, reset func()) {
	b := &backoff{min: min, max: max}
	return b.next, b.reset
}

// NewLiteral is the reader a fetched body is handed to Ingest through.
func NewLiteral(lit imap.LiteralReader) interface {
	Read([]byte) (int, error)
	Len() int
} {
	return newLiteral(lit)
}

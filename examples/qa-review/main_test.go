package main

import "testing"

// TestRun runs the example end to end: it fails (log.Fatal, exit 1) if
// any step is refused or the customer does not get exactly one message.
func TestRun(t *testing.T) { main() }

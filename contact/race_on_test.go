//go:build race

package contact_test

const raceEnabled = true

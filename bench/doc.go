// Package bench compares compose.Parse with github.com/jhillyerd/enmime and
// with a bare go-message walk on the same corpus. It is a separate module so
// that peer libraries stay out of emailflow's go.mod.
package bench

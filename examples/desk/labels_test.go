package main

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/emailflow/emailflow/interaction"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every word a page asks for is in both languages, and the languages have
// the same words.
func TestCataloguesHaveEveryWord(t *testing.T) {
	used := map[string]bool{}
	key := regexp.MustCompile(`\.T "([\w.-]+)"|\.Act "\w+" "([\w.-]+)"`)
	names, err := fs.Glob(templateFiles, "templates/*.html")
	require.NoError(t, err)
	for _, name := range names {
		b, err := fs.ReadFile(templateFiles, name)
		require.NoError(t, err)
		for _, m := range key.FindAllStringSubmatch(string(b), -1) {
			used[m[1]+m[2]] = true
		}
	}
	require.NotEmpty(t, used)
	for k := range used {
		for l, c := range catalogues {
			_, ok := c[k]
			assert.True(t, ok, "%s has no word for %q", l, k)
		}
	}
	assert.Equal(t, len(catalogues[french]), len(catalogues[english]))
	for k := range catalogues[french] {
		_, ok := catalogues[english][k]
		assert.True(t, ok, "en has no word for %q", k)
	}
	assert.Equal(t, "Refusé", labelsFor[french].State(interaction.StateRejected), "the reference desk's word")
}

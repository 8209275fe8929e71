// Package web holds the pages OrthoCDS serves, embedded in the binary.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// Pages returns the page tree served at /.
func Pages() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	return sub
}

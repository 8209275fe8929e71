package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os/exec"
	"regexp"
	"slices"
	"strings"
)

// OCR reads the text in the image of a page.
type OCR interface {
	Read(ctx context.Context, img image.Image) (string, error)
}

// tesseract runs the tesseract command with Chinese and English data.
type tesseract struct{ path string }

// Tesseract returns the installed tesseract command as an OCR, or an
// error saying what is missing: the command (Debian: tesseract-ocr) or its
// Chinese or English data (tesseract-ocr-chi-sim, tesseract-ocr-eng).
func Tesseract() (OCR, error) {
	path, err := exec.LookPath("tesseract")
	if err != nil {
		return nil, errors.New("tesseract is not installed (Debian: apt-get install tesseract-ocr tesseract-ocr-chi-sim)")
	}
	out, err := exec.Command(path, "--list-langs").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("tesseract --list-langs: %v", err)
	}
	langs := strings.Fields(string(out))
	for _, l := range []string{"chi_sim", "eng"} {
		if !slices.Contains(langs, l) {
			return nil, fmt.Errorf("tesseract has no %s data (Debian: tesseract-ocr-%s)", l, strings.ReplaceAll(l, "_", "-"))
		}
	}
	return tesseract{path: path}, nil
}

func (t tesseract) Read(ctx context.Context, img image.Image) (string, error) {
	var in bytes.Buffer
	if err := png.Encode(&in, img); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, t.path, "stdin", "stdout", "-l", "chi_sim+eng", "--psm", "6")
	cmd.Stdin = &in
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("tesseract: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return tidyOCR(out.String()), nil
}

// hanSpace is white space inside Chinese text, which tesseract puts
// between characters.
var hanSpace = regexp.MustCompile(`([\p{Han}\x{3000}-\x{303f}\x{ff00}-\x{ffef}])[ \t]+([\p{Han}\x{3000}-\x{303f}\x{ff00}-\x{ffef}])`)

// tidyOCR removes the spaces tesseract puts between Chinese characters and
// joins lines wrapped inside a paragraph (paragraphs are separated by
// blank lines).
func tidyOCR(s string) string {
	var paras []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\f", ""), "\n\n") {
		var text string
		for _, l := range strings.Split(p, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				text = joinLines(text, l)
			}
		}
		for range 2 { // overlapping matches need a second pass
			text = hanSpace.ReplaceAllString(text, "$1$2")
		}
		if text = strings.TrimSpace(text); text != "" {
			paras = append(paras, text)
		}
	}
	return strings.Join(paras, "\n\n")
}

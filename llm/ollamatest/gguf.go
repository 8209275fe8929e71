// Package ollamatest runs a real Ollama server for tests, with tiny
// random-weight models that the tests write themselves: no weights are
// downloaded, and the tests check protocol and safety, never medical
// content. The server is the binary scripts/build-ollama.sh builds from
// the Ollama Go module at the version go.mod requires.
package ollamatest

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"strconv"

	fsggml "github.com/ollama/ollama/fs/ggml"
)

// The GGUF files are written with Ollama's own writer (fs/ggml), so that
// the files are what Ollama itself would write.

// ChatModel describes a tiny llama-architecture chat model.
type ChatModel struct {
	ContextLength int    // tokens; the model's trained context, read by /api/show
	Seed          uint64 // weights are drawn from it
}

// Byte-fallback vocabulary: three control tokens, then the 256 bytes, so
// that every text tokenises (one token per byte) and token counts are
// exactly predictable.
const (
	tokUnk = 0
	tokBOS = 1
	tokEOS = 2
)

func chatVocab() (tokens []string, scores []float32, types []int32) {
	tokens = []string{"<unk>", "<s>", "</s>"}
	types = []int32{2, 3, 3} // unknown, control, control
	for b := range 256 {
		tokens = append(tokens, "<0x"+hex2(byte(b))+">")
		types = append(types, 6) // byte
	}
	scores = make([]float32, len(tokens))
	return tokens, scores, types
}

func hex2(b byte) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[b>>4], digits[b&15]})
}

// randomF32 is a tensor of n normally distributed values times scale.
func randomF32(rng *rand.Rand, n int, scale float32) *bytes.Reader {
	buf := make([]byte, 4*n)
	for i := range n {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(float32(rng.NormFloat64())*scale))
	}
	return bytes.NewReader(buf)
}

func onesF32(n int) *bytes.Reader {
	buf := make([]byte, 4*n)
	for i := range n {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(1))
	}
	return bytes.NewReader(buf)
}

func zerosF32(n int) *bytes.Reader { return bytes.NewReader(make([]byte, 4*n)) }

// WriteChat writes the chat model to path.
func WriteChat(path string, m ChatModel) error {
	const (
		embd   = 64
		heads  = 4
		headKV = 4
		ff     = 128
		layers = 2
	)
	rng := rand.New(rand.NewPCG(m.Seed, 17))
	tokens, scores, types := chatVocab()
	vocab := len(tokens)
	head := embd / heads
	kv := fsggml.KV{
		"general.architecture":                   "llama",
		"general.name":                           "orthocds-tiny-chat (random weights, SYNTHETIC)",
		"general.file_type":                      uint32(0),
		"llama.context_length":                   uint32(m.ContextLength),
		"llama.embedding_length":                 uint32(embd),
		"llama.block_count":                      uint32(layers),
		"llama.feed_forward_length":              uint32(ff),
		"llama.attention.head_count":             uint32(heads),
		"llama.attention.head_count_kv":          uint32(headKV),
		"llama.attention.key_length":             uint32(head),
		"llama.attention.value_length":           uint32(head),
		"llama.attention.layer_norm_rms_epsilon": float32(1e-5),
		"llama.rope.dimension_count":             uint32(head),
		"llama.rope.freq_base":                   float32(10000),
		"llama.vocab_size":                       uint32(vocab),
		"tokenizer.ggml.model":                   "llama",
		"tokenizer.ggml.tokens":                  tokens,
		"tokenizer.ggml.scores":                  scores,
		"tokenizer.ggml.token_type":              types,
		"tokenizer.ggml.bos_token_id":            uint32(tokBOS),
		"tokenizer.ggml.eos_token_id":            uint32(tokEOS),
		"tokenizer.ggml.unknown_token_id":        uint32(tokUnk),
		"tokenizer.ggml.add_bos_token":           true,
		"tokenizer.ggml.add_eos_token":           false,
	}
	t := func(name string, r *bytes.Reader, shape ...uint64) *fsggml.Tensor {
		return &fsggml.Tensor{Name: name, Kind: 0, Shape: shape, WriterTo: r}
	}
	ts := []*fsggml.Tensor{
		t("token_embd.weight", randomF32(rng, embd*vocab, 0.5), embd, uint64(vocab)),
		t("output_norm.weight", onesF32(embd), embd),
		t("output.weight", randomF32(rng, embd*vocab, 0.5), embd, uint64(vocab)),
	}
	for l := range layers {
		p := "blk." + strconv.Itoa(l) + "."
		ts = append(ts,
			t(p+"attn_norm.weight", onesF32(embd), embd),
			t(p+"attn_q.weight", randomF32(rng, embd*embd, 0.1), embd, embd),
			t(p+"attn_k.weight", randomF32(rng, embd*head*headKV, 0.1), embd, uint64(head*headKV)),
			t(p+"attn_v.weight", randomF32(rng, embd*head*headKV, 0.1), embd, uint64(head*headKV)),
			t(p+"attn_output.weight", randomF32(rng, embd*embd, 0.1), embd, embd),
			t(p+"ffn_norm.weight", onesF32(embd), embd),
			t(p+"ffn_gate.weight", randomF32(rng, embd*ff, 0.1), embd, ff),
			t(p+"ffn_up.weight", randomF32(rng, embd*ff, 0.1), embd, ff),
			t(p+"ffn_down.weight", randomF32(rng, ff*embd, 0.1), ff, embd),
		)
	}
	return write(path, kv, ts)
}

// EmbedModel describes a tiny BERT embedding model.
type EmbedModel struct {
	Dim  int // embedding length, read back from the server's answers
	Seed uint64
}

// WriteEmbed writes the embedding model to path: a WordPiece vocabulary of
// lower-case letters and digits (other characters are unknown, which is
// enough to test the protocol), mean pooling, normalised output.
func WriteEmbed(path string, m EmbedModel) error {
	const (
		heads  = 2
		ff     = 64
		layers = 1
		ctx    = 512
	)
	embd := m.Dim
	rng := rand.New(rand.NewPCG(m.Seed, 29))
	tokens := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
	types := []int32{3, 2, 3, 3, 3}
	for _, c := range "abcdefghijklmnopqrstuvwxyz0123456789" {
		tokens = append(tokens, string(c), "##"+string(c))
		types = append(types, 1, 1)
	}
	vocab := len(tokens)
	kv := fsggml.KV{
		"general.architecture":              "bert",
		"general.name":                      "orthocds-tiny-embed (random weights, SYNTHETIC)",
		"general.file_type":                 uint32(0),
		"bert.context_length":               uint32(ctx),
		"bert.embedding_length":             uint32(embd),
		"bert.block_count":                  uint32(layers),
		"bert.feed_forward_length":          uint32(ff),
		"bert.attention.head_count":         uint32(heads),
		"bert.attention.layer_norm_epsilon": float32(1e-12),
		"bert.pooling_type":                 uint32(1), // mean
		"tokenizer.ggml.model":              "bert",
		"tokenizer.ggml.tokens":             tokens,
		"tokenizer.ggml.scores":             make([]float32, vocab),
		"tokenizer.ggml.token_type":         types,
		"tokenizer.ggml.token_type_count":   uint32(2),
		"tokenizer.ggml.unknown_token_id":   uint32(1),
		"tokenizer.ggml.cls_token_id":       uint32(2),
		"tokenizer.ggml.separator_token_id": uint32(3),
		"tokenizer.ggml.padding_token_id":   uint32(0),
		"tokenizer.ggml.mask_token_id":      uint32(4),
		"tokenizer.ggml.bos_token_id":       uint32(2),
		"tokenizer.ggml.eos_token_id":       uint32(3),
	}
	t := func(name string, r *bytes.Reader, shape ...uint64) *fsggml.Tensor {
		return &fsggml.Tensor{Name: name, Kind: 0, Shape: shape, WriterTo: r}
	}
	e := uint64(embd)
	ts := []*fsggml.Tensor{
		t("token_embd.weight", randomF32(rng, embd*vocab, 0.5), e, uint64(vocab)),
		t("token_types.weight", randomF32(rng, embd*2, 0.1), e, 2),
		t("position_embd.weight", randomF32(rng, embd*ctx, 0.1), e, ctx),
		t("token_embd_norm.weight", onesF32(embd), e),
		t("token_embd_norm.bias", zerosF32(embd), e),
	}
	for l := range layers {
		p := "blk." + strconv.Itoa(l) + "."
		for _, n := range []string{"attn_q", "attn_k", "attn_v", "attn_output"} {
			ts = append(ts, t(p+n+".weight", randomF32(rng, embd*embd, 0.1), e, e), t(p+n+".bias", zerosF32(embd), e))
		}
		ts = append(ts,
			t(p+"attn_output_norm.weight", onesF32(embd), e), t(p+"attn_output_norm.bias", zerosF32(embd), e),
			t(p+"ffn_up.weight", randomF32(rng, embd*ff, 0.1), e, ff), t(p+"ffn_up.bias", zerosF32(ff), ff),
			t(p+"ffn_down.weight", randomF32(rng, ff*embd, 0.1), ff, e), t(p+"ffn_down.bias", zerosF32(embd), e),
			t(p+"layer_output_norm.weight", onesF32(embd), e), t(p+"layer_output_norm.bias", zerosF32(embd), e),
		)
	}
	return write(path, kv, ts)
}

func write(path string, kv fsggml.KV, ts []*fsggml.Tensor) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fsggml.WriteGGUF(f, kv, ts); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

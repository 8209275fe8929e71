package analysis

// enStop and zhStop are words that carry no retrieval signal.
var enStop = set(`a an and are as at be been but by can do does for from has have
how i if in into is it its may me my no not of on or our should so such than that
the their them then there these they this to was we were what when where which
who whom why will with would you your patient patients he she his her him hers
its don doesn didn won isn aren wasn weren shouldn wouldn couldn haven hasn t s`)

var zhStop = set(`的 了 和 与 及 或 是 在 有 为 对 中 等 该 其 之 以 于 被 把 将 也 都 而 但 如 若 则 吗 呢 吧 啊 什么 怎么 如何 哪些 是否 应该 可以 患者 一个 这个 那个 我 你 他 她 们`)

func set(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range splitSpace(words) {
		m[w] = true
	}
	return m
}

func splitSpace(s string) []string {
	var out []string
	start := -1
	for i, r := range s {
		if r == ' ' || r == '\n' || r == '\t' {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

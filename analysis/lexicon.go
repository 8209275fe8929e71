package analysis

// domainWords are terms the general dictionary splits badly. Adding them
// keeps, for example, 地舒单抗 (denosumab) one word instead of 地舒 + 单抗.
var domainWords = []string{
	"骨质疏松", "骨质疏松症", "骨量减少", "骨密度", "双能X线", "脆性骨折", "椎体骨折",
	"髋部骨折", "双膦酸盐", "阿仑膦酸钠", "利塞膦酸钠", "唑来膦酸", "伊班膦酸钠",
	"地舒单抗", "特立帕肽", "阿巴洛肽", "罗莫佐单抗", "雷洛昔芬", "降钙素", "维生素D",
	"骨折联络", "药物假期", "序贯治疗", "糖皮质激素", "椎体成形术", "椎体后凸成形术",
	"骨水泥", "骨水泥渗漏", "压缩性骨折", "椎体压缩性骨折", "椎体内裂隙", "终板",
	"静脉血栓栓塞", "深静脉血栓", "肺栓塞", "低分子肝素", "磺达肝癸钠", "利伐沙班",
	"阿哌沙班", "达比加群", "阿司匹林", "华法林", "间歇充气加压", "足底静脉泵",
	"梯度压力弹力袜", "髋关节置换", "膝关节置换", "关节置换术", "出血风险",
	"脊髓型颈椎病", "颈椎病", "椎板成形术", "椎板切除", "前路", "后路", "轴性痛",
	"轴性症状", "颈痛", "减压", "融合", "康复", "骨科", "绝经后", "T值", "Z值",
	"骨折联络服务", "骨转换标志物", "脊髓病", "极高风险", "极高危", "绝经激素治疗", "激素替代治疗", "25羟维生素D",
	"泼尼松", "强的松", "充气加压", "弹力袜", "后纵韧带骨化", "K线", "关节镜", "身高变矮", "身高降低", "抗凝", "颈髓", "后凸成形术", "椎体成形", "颈髓受压", "脊髓受压", "手笨", "走路不稳", "步态不稳",
	"替勃龙", "颌骨坏死", "非典型股骨骨折", "牙科", "看牙", "鉴别诊断", "适应证", "适应症",
	"椎管成形术", "椎管扩大成形术", "单开门", "双开门", "压缩骨折", "轴性颈肩痛", "轴性颈痛", "颈肩痛", "骨量低", "骨量低下", "骨健康", "近期骨折", "避孕药",
}

// enStop and zhStop are words that carry no retrieval signal.
var enStop = set(`a an and are as at be been but by can do does for from has have
how i if in into is it its may me my no not of on or our should so such than that
the their them then there these they this to was we were what when where which
who whom why will with would you your patient patients`)

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

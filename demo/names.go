package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Word lists for synthetic names: common Chinese names and words, tied to
// no county. They are constants, split into lists by newWords.
const (
	// surnameChars are common surnames, the most common first (drawn with
	// falling weights); the tail holds some that are common in Yunnan.
	surnameChars = "李王张刘杨陈赵黄周吴徐孙马朱胡郭何罗高林普鲁施毕起字自苏段杞"
	// givenChars make given names of one or two characters.
	givenChars = "建国华明伟芳秀英丽军平红云兰文学海春梅金玉志强永德光荣成林富贵琼燕萍勇斌涛辉俊丹娟兴发祥顺福忠仙凤珍"
	// mobilePrefixes are the first three digits of mainland mobile numbers.
	mobilePrefixes = "130 131 132 133 135 136 137 138 139 150 151 152 157 158 159 177 180 181 182 183 187 188 189 199"
	// streetNames are street names common to Chinese towns.
	streetNames = "人民路 建设路 文化路 团结路 民族路 新华路 和平路 兴业路 龙泉路 北城路 南华街 东门街"
	// countyMediationTopics name the county's professional mediation
	// committees; townshipMediationTopics the townships'.
	countyMediationTopics   = "医疗纠纷 道路交通事故 劳动争议 婚姻家庭纠纷 物业纠纷 消费纠纷 旅游纠纷 金融纠纷 校园纠纷 征地拆迁纠纷"
	townshipMediationTopics = "林权纠纷 土地承包纠纷 婚姻家庭纠纷 劳动争议 征地拆迁纠纷"
	// ethnicGroups are the peoples that ethnic townships (民族乡) are named
	// for, longest first so that a longer name wins.
	ethnicGroups = "傈僳族 哈尼族 纳西族 拉祜族 景颇族 布依族 土家族 蒙古族 傣族 彝族 苗族 回族 白族 壮族 瑶族 佤族 藏族 侗族 满族"
)

// words holds the word lists of one synthesis.
type words struct {
	surnames, given []rune
	mobiles         []string
	streets         []string
}

func newWords() words {
	return words{
		surnames: []rune(surnameChars),
		given:    []rune(givenChars),
		mobiles:  strings.Fields(mobilePrefixes),
		streets:  strings.Fields(streetNames),
	}
}

// person returns a synthetic full name.
func (s *synth) person(rng *rand.Rand) string {
	// Weights fall with the rank: the first surnames are the commonest.
	w := &s.words
	i := int(float64(len(w.surnames)) * rng.Float64() * rng.Float64())
	name := string(w.surnames[i]) + string(w.given[rng.IntN(len(w.given))])
	if rng.IntN(10) < 7 {
		name += string(w.given[rng.IntN(len(w.given))])
	}
	return name
}

// mobile returns a synthetic mainland mobile number.
func (s *synth) mobile(rng *rand.Rand) string {
	return fmt.Sprintf("%s%08d", s.words.mobiles[rng.IntN(len(s.words.mobiles))], rng.IntN(100000000))
}

// landline returns a synthetic local telephone number of the county,
// "0878-87xxxxx".
func (s *synth) landline(rng *rand.Rand) string {
	n := s.d.PhoneDigits - len(s.d.PhonePrefix)
	limit := 1
	for range n {
		limit *= 10
	}
	return fmt.Sprintf("%s-%s%0*d", s.d.PhoneAreaCode, s.d.PhonePrefix, n, rng.IntN(limit))
}

// chineseNumber writes 1 to 99 in Chinese numerals: 一, 十二, 二十三.
func chineseNumber(n int) string {
	digits := []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"}
	switch {
	case n < 10:
		return digits[n]
	case n == 10:
		return "十"
	case n < 20:
		return "十" + digits[n%10]
	case n%10 == 0:
		return digits[n/10] + "十"
	default:
		return digits[n/10] + "十" + digits[n%10]
	}
}

// shortTownship returns the name of a township without its kind: 狮山镇 →
// 狮山, 东坡傣族乡 → 东坡.
func shortTownship(name string) string {
	for _, suffix := range []string{"街道", "镇", "乡"} {
		if strings.HasSuffix(name, suffix) {
			name = strings.TrimSuffix(name, suffix)
			break
		}
	}
	for _, e := range strings.Fields(ethnicGroups) {
		if s := strings.TrimSuffix(name, e); s != name && s != "" {
			return s
		}
	}
	return name
}

// shortCounty returns the name of a county without its kind: 武定县 → 武定.
func shortCounty(name string) string {
	for _, suffix := range []string{"自治县", "县", "市", "区", "旗"} {
		if s := strings.TrimSuffix(name, suffix); s != name && len([]rune(s)) >= 2 {
			return s
		}
	}
	return name
}

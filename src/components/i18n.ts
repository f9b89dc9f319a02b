/** The site's two languages and the few words the components need in each. */
export type Lang = 'ja' | 'en';
export const LANGS: readonly Lang[] = ['ja', 'en'];

export function langOf(locale: string | undefined): Lang {
  return locale === 'en' ? 'en' : 'ja';
}

/** Numbers as the page prints them: weights to 3 significant digits, with a real minus sign. */
export function formatWeight(value: number): string {
  return value.toPrecision(3).replace('-', '−');
}

export const strings = {
  ja: {
    modeName: { filter: 'フィルタごとに正規化', global: '全フィルタ共通のスケール', zero: '0 を中心に正規化（灰色 = 0）' },
    orderName: { column: 'i 番目のフィルタを ⌊i/8⌋ 列・i mod 8 行に配置（元記事と同じ順）', row: 'i 番目のフィルタを ⌊i/8⌋ 行・i mod 8 列に配置' },
    gridAlt: (n: number, kh: number, kw: number, mode: string, order: string) =>
      `conv1 の ${n} 個のフィルタ（各 ${kh}×${kw}）を 1 ピクセルの黒い隙間で並べたグリッド。${mode}。${order}。`,
    gridCaption: (n: number, size: string, scale: number) => `conv1 の ${n} 個のフィルタ（${size} ピクセルの画像を ${scale} 倍に拡大）。`,
    download: (size: string) => `元の ${size} PNG をダウンロード`,
    range: (min: string, max: string) => `黒 = ${min}、白 = ${max}`,
    rangePerFilter: (min: string, max: string) => `各フィルタの最小値が黒、最大値が白（層全体の範囲は ${min} 〜 ${max}）`,
    filterAlt: (f: number, kh: number, kw: number, scale: number, min: string, max: string, mode: string) =>
      `conv1 のフィルタ ${f}：${kh}×${kw} の重みを ${scale} 倍に拡大し、BGR を RGB に直して表示。重みは ${min} 〜 ${max}。${mode}。`,
    filterCaption: (f: number) => `フィルタ ${f}`,
    stats: (min: string, max: string, l2: string) => `最小 ${min} ・ 最大 ${max} ・ L2 ノルム ${l2}`,
    photoAlt: (title: string) => `写真「${title}」（応答と同じ範囲に切り抜き）`,
    responseAlt: (f: number, title: string) =>
      `写真「${title}」にフィルタ ${f} を畳み込んだ応答。灰色 = 0、白 = 強い正の応答、黒 = 強い負の応答。`,
    convolutionCaption: (f: number, title: string, credit: string) => `左：${title}（${credit}）。右：フィルタ ${f} の応答（灰色 = 0、白 = 正、黒 = 負）。`,
    info: {
      model: 'モデル', layer: '層', shape: 'カーネルの形', axes: '（高さ, 幅, 入力チャンネル, フィルタ数）', strides: 'ストライド',
      channels: '入力チャンネル順', source: '根拠', mean: '入力から引く平均', bytes: '読んだバイト数', format: '形式', convs: '畳み込み層の数',
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
      sorts: { index: '番号順', l2: 'L2 ノルム順（強い順）', colour: '色の強さ順（カラー → グレー）' },
      axes: (kh: number, kw: number) => `各タイルは ${kh}×${kw} の重み：横が x（幅）、縦が y（高さ）。色は入力チャンネルを RGB で表示。`,
      order: '並びは列優先：上から下へ、左の列から右の列へ。',
      scaleBar: { filter: 'タイルごとに 最小 → 最大', global: (min: string, max: string) => `${min} → ${max}`, zero: (m: string) => `−${m} ← 0 → +${m}` },
      tile: (f: number, min: string, max: string) => `フィルタ ${f}（最小 ${min}、最大 ${max}）を開く`,
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
        filter: 'フィルタ番号',
        working: '計算中…',
        done: (w: number | string, h: number | string, ms: number | string) => `${w}×${h} ピクセルの応答を ${ms} ms で計算しました。`,
        failed: '画像を読み込めませんでした。JPEG、PNG、WebP などの画像を選んでください。',
        photoAlt: 'あなたが選んだ写真',
        responseAlt: (f: number | string) => `あなたの写真にフィルタ ${f} を畳み込んだ応答。灰色 = 0、白 = 正、黒 = 負。`,
      },
    },
  },
  en: {
    modeName: { filter: 'each filter scaled on its own min and max', global: 'one scale for all filters', zero: 'one scale centred on zero (mid-grey = 0)' },
    orderName: { column: 'filter i at column ⌊i/8⌋, row i mod 8 (the original order)', row: 'filter i at row ⌊i/8⌋, column i mod 8' },
    gridAlt: (n: number, kh: number, kw: number, mode: string, order: string) =>
      `Grid of the ${n} conv1 filters, ${kh}×${kw} each, separated by 1-pixel black gaps; ${mode}; ${order}.`,
    gridCaption: (n: number, size: string, scale: number) => `The ${n} filters of conv1 (a ${size} pixel image, enlarged ${scale}×).`,
    download: (size: string) => `Download the original ${size} PNG`,
    range: (min: string, max: string) => `black = ${min}, white = ${max}`,
    rangePerFilter: (min: string, max: string) => `each filter's minimum is black and its maximum white (the layer spans ${min} to ${max})`,
    filterAlt: (f: number, kh: number, kw: number, scale: number, min: string, max: string, mode: string) =>
      `Filter ${f} of conv1: its ${kh}×${kw} weights enlarged ${scale}×, channels turned from BGR to RGB; weights from ${min} to ${max}; ${mode}.`,
    filterCaption: (f: number) => `Filter ${f}`,
    stats: (min: string, max: string, l2: string) => `min ${min} · max ${max} · L2 norm ${l2}`,
    photoAlt: (title: string) => `The photo “${title}”, cropped to the area the response covers`,
    responseAlt: (f: number, title: string) =>
      `Response of filter ${f} on the photo “${title}”: mid-grey is zero, white a strong positive and black a strong negative response.`,
    convolutionCaption: (f: number, title: string, credit: string) => `Left: ${title} (${credit}). Right: response of filter ${f} (mid-grey = 0, white positive, black negative).`,
    info: {
      model: 'Model', layer: 'Layer', shape: 'Kernel shape', axes: '(height, width, input channels, filters)', strides: 'Strides',
      channels: 'Input channel order', source: 'because of', mean: 'Mean subtracted from the input', bytes: 'Bytes read', format: 'Format', convs: 'Convolution layers',
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
      sorts: { index: 'By index', l2: 'By L2 norm (strongest first)', colour: 'By colour (colourful → grey)' },
      axes: (kh: number, kw: number) => `Each tile is ${kh}×${kw} weights: x (width) across, y (height) down. Colours show the input channels as RGB.`,
      order: 'Tiles run down each column, then on to the next column.',
      scaleBar: { filter: 'each tile: its min → its max', global: (min: string, max: string) => `${min} → ${max}`, zero: (m: string) => `−${m} ← 0 → +${m}` },
      tile: (f: number, min: string, max: string) => `Open filter ${f} (min ${min}, max ${max})`,
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
        filter: 'Filter',
        working: 'Computing…',
        done: (w: number | string, h: number | string, ms: number | string) => `Computed a ${w}×${h} pixel response in ${ms} ms.`,
        failed: 'That file could not be read as an image; pick a JPEG, PNG or WebP image.',
        photoAlt: 'The photo you chose',
        responseAlt: (f: number | string) => `Response of filter ${f} on your photo: mid-grey is zero, white positive, black negative.`,
      },
    },
  },
} as const;

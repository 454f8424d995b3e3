// Message markdown to safe HTML. Raw HTML in the source is escaped (markdown-it with
// html: false), links are limited to safe schemes by markdown-it's validateLink, and Webex
// mentions (`<@personId:ID|Name>`, `<@personEmail:EMAIL|Name>`, `<@all>`) are parsed by an
// inline rule of markdown-it itself and rendered by its renderer. Nothing is spliced into
// the rendered HTML afterwards: a mention exists only where markdown-it parses inline text
// (not inside a link's title or URL, a code span or block, or a backslash-escaped `\<`), and
// its name is escaped like any text.
import MarkdownIt from 'markdown-it';
import type { MarkdownIt as Markdown, StateInline, Token } from 'markdown-it';

export type MentionTarget = { personId: string } | { personEmail: string } | { group: 'all' };

export interface ParsedMentions {
  /** The mentions markdown-it found, in document order (one per occurrence). */
  targets: MentionTarget[];
  /** Render with the ids the mentions resolved to; unresolved ones stay plain names. */
  render(resolve: (target: MentionTarget) => string | undefined): { html: string; text: string };
}

/** What a mention token carries from the parse to the renderer. */
type MentionMeta = {
  target: MentionTarget;
  name: string;
};

/** The render env: markdown-it hands it to every render rule. */
type MentionEnv = {
  resolveMention?: (target: MentionTarget) => string | undefined;
};

const MENTION_SOURCE = String.raw`<@(?:(personId|personEmail):([^|>\s]{1,320})(?:\|([^>]{0,256}))?|(all))>`;
/** Anchored at the parser's position (sticky), for the inline rule. */
const MENTION_AT = new RegExp(MENTION_SOURCE, 'y');
/** Anywhere in the source, for the plain-text rendering. */
const MENTION_ANYWHERE = new RegExp(MENTION_SOURCE, 'g');

const LESS_THAN = 0x3c;
const AT_SIGN = 0x40;

function mentionOf(kind: string | undefined, value: string | undefined, name: string | undefined, all: string | undefined): MentionMeta {
  if (all) return { target: { group: 'all' }, name: 'All' };
  const target: MentionTarget = kind === 'personId' ? { personId: value! } : { personEmail: value! };
  return { target, name: name?.trim() || value! };
}

/** markdown-it plugin: `mention` tokens from the inline parser, `<spark-mention>` from the renderer. */
const mentions = (md: Markdown): void => {
  md.inline.ruler.before('autolink', 'mention', (state: StateInline, silent: boolean) => {
    if (state.src.charCodeAt(state.pos) !== LESS_THAN || state.src.charCodeAt(state.pos + 1) !== AT_SIGN) return false;
    MENTION_AT.lastIndex = state.pos;
    const match = MENTION_AT.exec(state.src);
    if (!match) return false;
    if (!silent) {
      const token = state.push('mention', 'spark-mention', 0);
      token.meta = mentionOf(match[1], match[2], match[3], match[4]) satisfies MentionMeta;
    }
    state.pos += match[0].length;
    return true;
  });

  md.renderer.rules.mention = (tokens, idx, _options, env) => {
    const { target, name } = tokens[idx].meta as MentionMeta;
    const shownName = md.utils.escapeHtml(name);
    if ('group' in target) return `<spark-mention data-object-type="groupMention" data-group-type="all">${shownName}</spark-mention>`;
    const personId = (env as MentionEnv | undefined)?.resolveMention?.(target);
    return personId ? `<spark-mention data-object-type="person" data-object-id="${md.utils.escapeHtml(personId)}">${shownName}</spark-mention>` : shownName;
  };
};

const markdown = new MarkdownIt({ html: false, linkify: true, breaks: true }).use(mentions);

/**
 * The mentions that show in the rendered text: those among an inline run's own tokens. An
 * image's alt text is rendered as plain text, so a mention there mentions nobody.
 */
function visibleMentions(tokens: Token[]): MentionMeta[] {
  const found: MentionMeta[] = [];
  for (const block of tokens) {
    if (block.type !== 'inline' || !block.children) continue;
    for (const token of block.children) if (token.type === 'mention') found.push(token.meta as MentionMeta);
  }
  return found;
}

export function parseMarkdown(source: string): ParsedMentions {
  const tokens = markdown.parse(source, {});
  const targets = visibleMentions(tokens).map((mention) => mention.target);
  return {
    targets,
    render(resolve) {
      const env: MentionEnv = { resolveMention: resolve };
      const html = markdown.renderer.render(tokens, markdown.options, env).trim();
      const text = source.replace(MENTION_ANYWHERE, (_all, kind?: string, value?: string, name?: string, all?: string) => mentionOf(kind, value, name, all).name);
      return { html, text };
    },
  };
}

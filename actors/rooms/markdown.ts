// Message markdown to safe HTML. Raw HTML in the source is escaped (markdown-it with
// html: false), links are limited to safe schemes by markdown-it's validateLink, and Webex
// mentions (`<@personId:ID|Name>`, `<@personEmail:EMAIL|Name>`, `<@all>`) become
// <spark-mention> elements after rendering, so they cannot smuggle markup.
import MarkdownIt from 'markdown-it';

const markdown = new MarkdownIt({ html: false, linkify: true, breaks: true });

export type MentionTarget = { personId: string } | { personEmail: string } | { group: 'all' };

export interface ParsedMentions {
  targets: MentionTarget[];
  /** Render with the ids the mentions resolved to; unresolved ones stay plain names. */
  render(resolve: (target: MentionTarget) => string | undefined): { html: string; text: string };
}

const MENTION = /<@(?:(personId|personEmail):([^|>\s]{1,320})(?:\|([^>]{0,256}))?|(all))>/g;
const placeholder = (i: number) => `\uE000${i}\uE001`;
const PLACEHOLDER = /\uE000(\d+)\uE001/g;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function parseMarkdown(source: string): ParsedMentions {
  const targets: MentionTarget[] = [];
  const names: string[] = [];
  // The placeholder characters are private-use code points: drop any in the source first.
  const withPlaceholders = source.replace(/[\uE000\uE001]/g, '').replace(MENTION, (_all, kind: string, value: string, name: string | undefined, all: string | undefined) => {
    if (all) {
      targets.push({ group: 'all' });
      names.push('All');
    } else {
      targets.push(kind === 'personId' ? { personId: value } : { personEmail: value });
      names.push(name?.trim() || value);
    }
    return placeholder(targets.length - 1);
  });
  return {
    targets,
    render(resolve) {
      const html = markdown.render(withPlaceholders).trim().replace(PLACEHOLDER, (_m, i: string) => {
        const target = targets[Number(i)];
        const name = escapeHtml(names[Number(i)]);
        if ('group' in target) return `<spark-mention data-object-type="groupMention" data-group-type="all">${name}</spark-mention>`;
        const personId = resolve(target);
        return personId ? `<spark-mention data-object-type="person" data-object-id="${escapeHtml(personId)}">${name}</spark-mention>` : name;
      });
      const text = withPlaceholders.replace(PLACEHOLDER, (_m, i: string) => names[Number(i)]);
      return { html, text };
    },
  };
}

// Docker-style container names: validation and the random `adjective_surname`
// names given when none is asked for (a shorter list than moby's namesgenerator).
import { randomInt } from 'node:crypto';
import { invalidArgument } from '../errors/index.js';

const ADJECTIVES = [
  'admiring', 'adoring', 'affectionate', 'agitated', 'amazing', 'angry', 'awesome', 'blissful', 'bold', 'brave',
  'busy', 'charming', 'clever', 'cool', 'compassionate', 'competent', 'confident', 'dazzling', 'determined', 'eager',
  'ecstatic', 'elastic', 'elated', 'elegant', 'epic', 'fervent', 'festive', 'focused', 'friendly', 'frosty',
  'gallant', 'gifted', 'goofy', 'gracious', 'happy', 'hardcore', 'heuristic', 'hopeful', 'hungry', 'infallible',
  'inspiring', 'jolly', 'jovial', 'keen', 'kind', 'laughing', 'loving', 'lucid', 'magical', 'modest',
  'musing', 'mystifying', 'naughty', 'nervous', 'nice', 'nifty', 'nostalgic', 'objective', 'optimistic', 'peaceful',
  'pedantic', 'pensive', 'practical', 'priceless', 'quirky', 'quizzical', 'relaxed', 'reverent', 'romantic', 'sad',
  'serene', 'sharp', 'silly', 'sleepy', 'stoic', 'strange', 'stupefied', 'suspicious', 'sweet', 'tender',
  'thirsty', 'trusting', 'upbeat', 'vibrant', 'vigilant', 'vigorous', 'wizardly', 'wonderful', 'xenodochial', 'youthful',
  'zealous', 'zen',
];

const SURNAMES = [
  'agnesi', 'albattani', 'allen', 'almeida', 'archimedes', 'ardinghelli', 'babbage', 'banach', 'bardeen', 'bartik',
  'bell', 'bhabha', 'blackwell', 'bohr', 'booth', 'borg', 'bose', 'brahmagupta', 'brattain', 'carson',
  'cerf', 'chandrasekhar', 'clarke', 'curie', 'darwin', 'dijkstra', 'einstein', 'elion', 'engelbart', 'euclid',
  'euler', 'fermat', 'fermi', 'feynman', 'franklin', 'galileo', 'gauss', 'goldberg', 'goodall', 'hamilton',
  'hawking', 'heisenberg', 'hermann', 'hodgkin', 'hopper', 'hypatia', 'jackson', 'jang', 'jennings', 'johnson',
  'kalam', 'keller', 'kepler', 'khorana', 'knuth', 'lalande', 'lamport', 'leakey', 'lovelace', 'lumiere',
  'mayer', 'mccarthy', 'mcclintock', 'meitner', 'mendel', 'merkle', 'mirzakhani', 'morse', 'napier', 'newton',
  'nobel', 'noether', 'pasteur', 'payne', 'perlman', 'pike', 'poincare', 'ptolemy', 'raman', 'ramanujan',
  'ride', 'ritchie', 'rosalind', 'sammet', 'shannon', 'shockley', 'sinoussi', 'stonebraker', 'swartz', 'tesla',
  'thompson', 'torvalds', 'turing', 'volhard', 'wescoff', 'wiles', 'williams', 'wilson', 'wing', 'wozniak',
  'wright', 'yalow', 'yonath',
];

const pick = (list: readonly string[]): string => list[randomInt(list.length)] as string;

/** A random name; `attempt` > 0 appends a digit, as moby does after collisions. */
export function randomName(attempt = 0): string {
  let name = `${pick(ADJECTIVES)}_${pick(SURNAMES)}`;
  if (name === 'boring_wozniak') name = 'happy_wozniak'; // Steve Wozniak is not boring (moby's rule)
  return attempt > 0 ? `${name}${randomInt(10)}` : name;
}

const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** "/name" for a valid name; docker's message otherwise. */
export function normalizeName(name: string): string {
  if (!VALID_NAME.test(name)) throw invalidArgument(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.startsWith('/') ? name : `/${name}`;
}

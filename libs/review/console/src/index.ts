export {
  CONSOLE_DIR,
  CONSOLE_HEADERS,
  consoleDir,
  consoleFile,
  type ConsoleFile,
} from './console-files';
